package server

import (
	"net/http"
)

// landingPage is GET /: where a person who opens the server's address in a
// browser finds its pages. Nothing on it needs a key, and it names none.
const landingPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Safeguard</title>
</head>
<body>
<h1>Safeguard</h1>
<p>This server matches uploaded images against hash banks of known child sexual abuse material and queues reports for review.</p>
<ul>
<li><a href="/console/">Review console</a> (for reviewers; sign in with an API key)</li>
<li><a href="/remove">Report Remove</a> (for young people: block a nude photo of yourself, without sending it)</li>
<li><a href="/v1/openapi.json">API document</a> (OpenAPI 3.1; the API wants a key: Authorization: Bearer sg_...)</li>
<li><a href="/healthz">Health</a> and <a href="/readyz">readiness</a></li>
</ul>
</body>
</html>
`

func landing(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method == http.MethodHead {
		return
	}
	w.Write([]byte(landingPage))
}

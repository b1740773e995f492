package lereport

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lereport/schema"
)

// IncidentType is one of the eight kinds of incident the CyberTipline
// accepts.
type IncidentType string

const (
	ChildPornography           IncidentType = "Child Pornography (possession, manufacture, and distribution)"
	ChildSexTrafficking        IncidentType = "Child Sex Trafficking"
	ChildSexTourism            IncidentType = "Child Sex Tourism"
	ChildSexualMolestation     IncidentType = "Child Sexual Molestation"
	MisleadingDomainName       IncidentType = "Misleading Domain Name"
	MisleadingWordsOrImages    IncidentType = "Misleading Words or Digital Images on the Internet"
	OnlineEnticement           IncidentType = "Online Enticement of Children for Sexual Acts"
	UnsolicitedObsceneMaterial IncidentType = "Unsolicited Obscene Material Sent to a Child"
)

// ReportAnnotation tags a report; each is written as an empty element.
type ReportAnnotation string

// The report annotations, in the schema's order.
const (
	Sextortion                 ReportAnnotation = "sextortion"
	CSAMSolicitation           ReportAnnotation = "csamSolicitation"
	MinorToMinorInteraction    ReportAnnotation = "minorToMinorInteraction"
	Spam                       ReportAnnotation = "spam"
	SadisticOnlineExploitation ReportAnnotation = "sadisticOnlineExploitation"
)

var reportAnnotationOrder = []ReportAnnotation{Sextortion, CSAMSolicitation, MinorToMinorInteraction, Spam, SadisticOnlineExploitation}

// FileAnnotation tags a file; each is written as an empty element.
type FileAnnotation string

// The file annotations, in the schema's order.
const (
	AnimeDrawingVirtualHentai FileAnnotation = "animeDrawingVirtualHentai"
	PotentialMeme             FileAnnotation = "potentialMeme"
	Viral                     FileAnnotation = "viral"
	PossibleSelfProduction    FileAnnotation = "possibleSelfProduction"
	PhysicalHarm              FileAnnotation = "physicalHarm"
	ViolenceGore              FileAnnotation = "violenceGore"
	Bestiality                FileAnnotation = "bestiality"
	LiveStreaming             FileAnnotation = "liveStreaming"
	Infant                    FileAnnotation = "infant"
	GenerativeAI              FileAnnotation = "generativeAi"
)

var fileAnnotationOrder = []FileAnnotation{AnimeDrawingVirtualHentai, PotentialMeme, Viral, PossibleSelfProduction,
	PhysicalHarm, ViolenceGore, Bestiality, LiveStreaming, Infant, GenerativeAI}

// ReportAnnotations marshals as <sextortion/><spam/>…, in the schema's
// order whatever the order of the slice, so callers need not know it.
type ReportAnnotations []ReportAnnotation

// MarshalXML implements xml.Marshaler.
func (a ReportAnnotations) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return marshalFlags(e, start, a, reportAnnotationOrder)
}

// FileAnnotations marshals like ReportAnnotations.
type FileAnnotations []FileAnnotation

// MarshalXML implements xml.Marshaler.
func (a FileAnnotations) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return marshalFlags(e, start, a, fileAnnotationOrder)
}

// marshalFlags writes each of set as an empty element, in order. A value
// not in order is written last, where the schema check will refuse it by
// name rather than have it dropped here unseen.
func marshalFlags[T ~string](e *xml.Encoder, start xml.StartElement, set []T, order []T) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	var sorted []T
	for _, v := range order {
		if slices.Contains(set, v) {
			sorted = append(sorted, v)
		}
	}
	for _, v := range set {
		if !slices.Contains(order, v) {
			sorted = append(sorted, v)
		}
	}
	for _, v := range sorted {
		el := xml.StartElement{Name: xml.Name{Local: string(v)}}
		if err := e.EncodeToken(el); err != nil {
			return err
		}
		if err := e.EncodeToken(el.End()); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// Document is a report in the CyberTipline's XML form: the body of /submit.
// Field order is element order; schema/cybertipline-subset.xsd fixes both,
// and Encode checks every document against it.
type Document struct {
	XMLName              xml.Name              `xml:"report" json:"-"`
	IncidentSummary      IncidentSummary       `xml:"incidentSummary" json:"incidentSummary"`
	InternetDetails      []InternetDetails     `xml:"internetDetails" json:"internetDetails,omitempty"`
	Reporter             Reporter              `xml:"reporter" json:"reporter"`
	PersonOrUserReported *PersonOrUserReported `xml:"personOrUserReported,omitempty" json:"personOrUserReported,omitempty"`
	Victims              []Victim              `xml:"victim" json:"victim,omitempty"`
	AdditionalInfo       string                `xml:"additionalInfo,omitempty" json:"additionalInfo,omitempty"`
}

// IncidentSummary says what happened and when.
type IncidentSummary struct {
	IncidentType IncidentType `xml:"incidentType" json:"incidentType"`
	// EscalateToHighPriority, if set, is the reason the report is urgent
	// (e.g. a child in immediate danger); setting it escalates the report.
	EscalateToHighPriority      string            `xml:"escalateToHighPriority,omitempty" json:"escalateToHighPriority,omitempty"`
	ReportAnnotations           ReportAnnotations `xml:"reportAnnotations,omitempty" json:"reportAnnotations,omitempty"`
	IncidentDateTime            time.Time         `xml:"incidentDateTime" json:"incidentDateTime"`
	IncidentDateTimeDescription string            `xml:"incidentDateTimeDescription,omitempty" json:"incidentDateTimeDescription,omitempty"`
}

// InternetDetails says where it happened; exactly one field is set.
type InternetDetails struct {
	WebPage *WebPageIncident `xml:"webPageIncident,omitempty" json:"webPageIncident,omitempty"`
	Email   *EmailIncident   `xml:"emailIncident,omitempty" json:"emailIncident,omitempty"`
	ChatIM  *ChatIMIncident  `xml:"chatImIncident,omitempty" json:"chatImIncident,omitempty"`
}

// WebPageIncident is an incident on a web page.
type WebPageIncident struct {
	URL                     []string `xml:"url" json:"url,omitempty"`
	AdditionalInfo          string   `xml:"additionalInfo,omitempty" json:"additionalInfo,omitempty"`
	ThirdPartyHostedContent *bool    `xml:"thirdPartyHostedContent,omitempty" json:"thirdPartyHostedContent,omitempty"`
}

// EmailIncident is an incident by email.
type EmailIncident struct {
	EmailAddress   []string `xml:"emailAddress" json:"emailAddress,omitempty"`
	Content        string   `xml:"content,omitempty" json:"content,omitempty"`
	AdditionalInfo string   `xml:"additionalInfo,omitempty" json:"additionalInfo,omitempty"`
}

// ChatIMIncident is an incident in a chat or instant messages.
type ChatIMIncident struct {
	ChatClient     string `xml:"chatClient,omitempty" json:"chatClient,omitempty"`
	ChatRoomName   string `xml:"chatRoomName,omitempty" json:"chatRoomName,omitempty"`
	Content        string `xml:"content,omitempty" json:"content,omitempty"`
	AdditionalInfo string `xml:"additionalInfo,omitempty" json:"additionalInfo,omitempty"`
}

// Reporter is the service making the report; ReportingPerson must give an
// email address.
type Reporter struct {
	ReportingPerson Person  `xml:"reportingPerson" json:"reportingPerson"`
	ContactPerson   *Person `xml:"contactPerson,omitempty" json:"contactPerson,omitempty"`
	CompanyTemplate string  `xml:"companyTemplate,omitempty" json:"companyTemplate,omitempty"`
	TermsOfService  string  `xml:"termsOfService,omitempty" json:"termsOfService,omitempty"`
	LegalURL        string  `xml:"legalURL,omitempty" json:"legalURL,omitempty"`
}

// Person is a real person: a reporter's staff, or a victim.
type Person struct {
	FirstName   string   `xml:"firstName,omitempty" json:"firstName,omitempty"`
	LastName    string   `xml:"lastName,omitempty" json:"lastName,omitempty"`
	Email       []string `xml:"email" json:"email,omitempty"`
	Age         int      `xml:"age,omitempty" json:"age,omitempty"`
	DateOfBirth string   `xml:"dateOfBirth,omitempty" json:"dateOfBirth,omitempty"` // YYYY-MM-DD
}

// PersonOrUserReported is the account reported (the suspect).
type PersonOrUserReported struct {
	ESPIdentifier   string           `xml:"espIdentifier,omitempty" json:"espIdentifier,omitempty"` // the platform's account id
	ESPService      string           `xml:"espService,omitempty" json:"espService,omitempty"`
	ScreenName      string           `xml:"screenName,omitempty" json:"screenName,omitempty"`
	DisplayName     []string         `xml:"displayName" json:"displayName,omitempty"`
	ProfileURL      []string         `xml:"profileUrl" json:"profileUrl,omitempty"`
	IPCaptureEvents []IPCaptureEvent `xml:"ipCaptureEvent" json:"ipCaptureEvent,omitempty"`
	AdditionalInfo  string           `xml:"additionalInfo,omitempty" json:"additionalInfo,omitempty"`
}

// Victim is a child victim.
type Victim struct {
	VictimPerson    Person           `xml:"victimPerson" json:"victimPerson"`
	ESPIdentifier   string           `xml:"espIdentifier,omitempty" json:"espIdentifier,omitempty"`
	ESPService      string           `xml:"espService,omitempty" json:"espService,omitempty"`
	ScreenName      string           `xml:"screenName,omitempty" json:"screenName,omitempty"`
	DisplayName     []string         `xml:"displayName" json:"displayName,omitempty"`
	ProfileURL      []string         `xml:"profileUrl" json:"profileUrl,omitempty"`
	IPCaptureEvents []IPCaptureEvent `xml:"ipCaptureEvent" json:"ipCaptureEvent,omitempty"`
	AdditionalInfo  string           `xml:"additionalInfo,omitempty" json:"additionalInfo,omitempty"`
}

// IPEvent is what a user was doing when an IP address was captured.
type IPEvent string

const (
	Login        IPEvent = "Login"
	Registration IPEvent = "Registration"
	Purchase     IPEvent = "Purchase"
	Upload       IPEvent = "Upload"
	OtherEvent   IPEvent = "Other"
	UnknownEvent IPEvent = "Unknown"
)

// IPCaptureEvent is an IP address an account used, and when and for what.
type IPCaptureEvent struct {
	IPAddress     netip.Addr `xml:"ipAddress" json:"ipAddress"`
	EventName     IPEvent    `xml:"eventName,omitempty" json:"eventName,omitempty"`
	DateTime      *time.Time `xml:"dateTime,omitempty" json:"dateTime,omitempty"`
	PossibleProxy *bool      `xml:"possibleProxy,omitempty" json:"possibleProxy,omitempty"`
	Port          int        `xml:"port,omitempty" json:"port,omitempty"`
}

// FileRelevance says whether a file is what the report is about or context.
type FileRelevance string

const (
	Reported             FileRelevance = "Reported"
	SupplementalReported FileRelevance = "Supplemental Reported"
)

// Classification is the industry classification of a reported file: A
// (prepubescent) or B (pubescent) minor, 1 (sex act) or 2 (lascivious
// exhibition).
type Classification string

const (
	A1 Classification = "A1"
	A2 Classification = "A2"
	B1 Classification = "B1"
	B2 Classification = "B2"
)

// FileDetails describes one uploaded file: the body of /fileinfo.
type FileDetails struct {
	XMLName          xml.Name `xml:"fileDetails" json:"-"`
	ReportID         string   `xml:"reportId" json:"reportId"` // the recipient's, from /submit
	FileID           string   `xml:"fileId" json:"fileId"`     // the recipient's, from /upload
	OriginalFileName string   `xml:"originalFileName,omitempty" json:"originalFileName,omitempty"`
	LocationOfFile   string   `xml:"locationOfFile,omitempty" json:"locationOfFile,omitempty"`
	// FileViewedByESP is true only if a person at the service viewed the
	// file; the Builder sets it from the audit log, never from the caller.
	// Police may not open a file the service did not view without a warrant.
	FileViewedByESP        bool             `xml:"fileViewedByEsp" json:"fileViewedByEsp"`
	ExifViewedByESP        *bool            `xml:"exifViewedByEsp,omitempty" json:"exifViewedByEsp,omitempty"`
	PubliclyAvailable      *bool            `xml:"publiclyAvailable,omitempty" json:"publiclyAvailable,omitempty"`
	FileRelevance          FileRelevance    `xml:"fileRelevance,omitempty" json:"fileRelevance,omitempty"`
	FileAnnotations        FileAnnotations  `xml:"fileAnnotations,omitempty" json:"fileAnnotations,omitempty"`
	IndustryClassification Classification   `xml:"industryClassification,omitempty" json:"industryClassification,omitempty"`
	OriginalFileHash       []FileHash       `xml:"originalFileHash" json:"originalFileHash,omitempty"`
	IPCaptureEvents        []IPCaptureEvent `xml:"ipCaptureEvent" json:"ipCaptureEvent,omitempty"`
	AdditionalInfo         string           `xml:"additionalInfo,omitempty" json:"additionalInfo,omitempty"`
}

// FileHash is a digest of the original file, in hex.
type FileHash struct {
	Type  string `xml:"hashType,attr" json:"hashType"` // MD5, SHA1, SHA256 or PDQ
	Value string `xml:",chardata" json:"value"`
}

// Encode returns d as a standalone XML document, refusing it with an error
// naming the element at fault if it does not conform to the schema.
func (d *Document) Encode() ([]byte, error) { return encode(d, "report") }

// Encode returns f as a standalone XML document, checked like
// Document.Encode.
func (f *FileDetails) Encode() ([]byte, error) { return encode(f, "fileDetails") }

func encode(v any, what string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	e := xml.NewEncoder(&b)
	e.Indent("", "  ")
	if err := e.Encode(v); err != nil {
		return nil, fmt.Errorf("lereport: encode %s: %w", what, err)
	}
	b.WriteByte('\n')
	if err := schema.CyberTip.Validate(b.Bytes()); err != nil {
		return nil, fmt.Errorf("lereport: %s does not conform to cybertipline-subset.xsd: %w", what, err)
	}
	return b.Bytes(), nil
}

package cli

import (
	"flag"
	"os"
)

// The config file is serve's, and every command reads it the same way: a
// setting comes from its flag when given, else its SAFEGUARD_* variable,
// else the file named by --config (env SAFEGUARD_CONFIG), else its default.

func addConfigFlag(fs *flag.FlagSet) *string {
	return fs.String("config", os.Getenv("SAFEGUARD_CONFIG"), "`file` of settings, one \"name = value\" a line, names as serve's flags (env SAFEGUARD_CONFIG)")
}

// settle fills each setting in vals (by flag name) that was not given on
// the command line from its variable, else from the config file at path
// (if any), and returns the file's settings, for the secrets it may hold.
func settle(fs *flag.FlagSet, path string, vals map[string]*string) (map[string]string, error) {
	file := map[string]string{}
	if path != "" {
		var err error
		if file, err = readConfig(path); err != nil {
			return nil, err
		}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, p := range vals {
		if given[name] {
			continue
		}
		if v, ok := os.LookupEnv(envName(name)); ok {
			*p = v
		} else if v, ok := file[name]; ok {
			*p = v
		}
	}
	return file, nil
}

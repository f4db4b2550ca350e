// Package catalog embeds the services ozgflow ships with: a state-wide base
// definition per service and variants for Leipzig and Dresden.
package catalog

import "embed"

// FS holds authorities.yaml and one directory of definitions per service.
//
//go:embed *.yaml */*.yaml
var FS embed.FS

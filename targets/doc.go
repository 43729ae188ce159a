// Package targets is where attacks land: the catalogue of attack kinds, their
// typed params, and (in later packages and files) the SSH and AWS code that
// injects and rolls them back.
//
// Every param value reaches an attack through a ParamSpec that parses it into
// a canonical form and refuses anything outside a narrow, mostly ASCII-only
// grammar. The executors quote values anyway; the strict grammar is the second
// wall, so that a runbook typo or a hostile value ("; rm -rf /", "$(id)", a
// bidi control) is an error at validation time, never a shell word on a host
// or an odd string in an AWS call.
//
// The runbook validator sees the catalogue only through runbook.Catalogue, so
// the document format does not depend on how attacks are carried out.
package targets

// einc/severity.h — how grave a diagnostic is, and its name as printed.
//
// One enum for the frontend's diagnostics and the embedding API's (and so
// the CLI's and the Python package's): "error", "warning", "note".
#pragma once

namespace einc {

enum class Severity { error, warning, note };

const char* severity_name(Severity severity);  // "error", "warning", "note"

}  // namespace einc

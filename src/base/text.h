#pragma once
// Text from strangers: names a person reads (job, token names), values written to logs and to
// terminals, and JSON nesting checked before a parser sees it.

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace suanpan {

// A name a person can read: valid UTF-8, 1..max_chars characters (code points, not bytes), no
// control characters (C0, DEL, C1), no bidirectional overrides or isolates, no zero-width or
// invisible formatting characters, no line or paragraph separators. InvalidArgument names
// `field` and the first offending character (as U+XXXX) and its position.
Status CheckDisplayName(std::string_view field, std::string_view s, size_t max_chars);

// Code points in valid UTF-8 (`s` must be valid).
size_t CountChars(std::string_view s);

// True when every byte is [A-Za-z0-9._:-] and 1..max_len long: safe to log verbatim (request ids).
bool IsSafeToken(std::string_view s, size_t max_len);

// For a terminal: keeps printable text, newlines and tabs; writes every other control byte
// (ESC, CR, BEL, DEL, C1 in UTF-8, invalid UTF-8) as a visible escape (\x1b, \r, \u009b).
std::string EscapeForTerminal(std::string_view s);

// For XML and HTML text and attribute values: & < > " ' as entities; control characters other
// than tab, newline and carriage return (which XML 1.0 forbids) dropped.
void AppendXmlEscaped(std::string& out, std::string_view text);
std::string XmlEscaped(std::string_view text);

// One CSV field (RFC 4180): as is, or quoted (quotes doubled) when it holds a comma, a quote or
// a line break.
std::string CsvField(std::string_view v);

// The deepest nesting of arrays and objects in a JSON text, counting no further than `limit`+1
// (it stops at the first byte past the limit). Strings are skipped (brackets inside them do not
// count). Linear, no recursion: safe on any input.
int JsonDepth(std::string_view text, int limit);

}  // namespace suanpan

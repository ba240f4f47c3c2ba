#include "base/text.h"

#include <fmt/format.h>

#include <cstdint>

namespace suanpan {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length (0: invalid) and the code point.
size_t DecodeOne(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n = 0;
  uint32_t v = 0, min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;  // overlong, surrogate
  *cp = v;
  return n;
}

bool Invisible(uint32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) return true;  // C0, DEL, C1
  if (cp == 0x00AD || cp == 0x034F || cp == 0x061C || cp == 0x115F || cp == 0x1160 ||
      cp == 0x180E || cp == 0x3164 || cp == 0xFEFF || cp == 0xFFA0) {
    return true;  // soft hyphen, grapheme joiner, Arabic letter mark, fillers, BOM
  }
  if (cp >= 0x200B && cp <= 0x200F) return true;    // zero-width space/joiners, LRM, RLM
  if (cp >= 0x2028 && cp <= 0x202E) return true;    // separators, bidi embeddings and overrides
  if (cp >= 0x2060 && cp <= 0x206F) return true;    // word joiner, invisible ops, bidi isolates
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return true;    // interlinear annotation
  if (cp >= 0xE0000 && cp <= 0xE007F) return true;  // tags
  return false;
}

}  // namespace

Status CheckDisplayName(std::string_view field, std::string_view s, size_t max_chars) {
  if (s.empty()) return FieldError(field, "must not be empty");
  size_t chars = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeOne(s, i, &cp);
    if (n == 0) return FieldError(field, fmt::format("is not valid UTF-8 (byte {})", i));
    ++chars;
    if (Invisible(cp)) {
      return FieldError(field, fmt::format("must be readable text: U+{:04X} at character {} is a "
                                           "control, bidirectional or invisible character",
                                           cp, chars));
    }
    i += n;
  }
  if (chars > max_chars) {
    return FieldError(field,
                      fmt::format("must be at most {} characters, got {}", max_chars, chars));
  }
  return OkStatus();
}

size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsSafeToken(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (unsigned char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string EscapeForTerminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n' || c == '\t') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = DecodeOne(s, i, &cp);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F) {
      out += c == '\r' ? std::string("\\r") : fmt::format("\\x{:02x}", cp);
    } else if (cp >= 0x80 && cp <= 0x9F) {
      out += fmt::format("\\u{:04x}", cp);  // C1 (e.g. U+009B, a one-byte CSI)
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

int JsonDepth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
}

std::string XmlEscaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendXmlEscaped(out, text);
  return out;
}

std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

}  // namespace suanpan

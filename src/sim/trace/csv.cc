// Line and field splitting and number parsing for the trace readers (see csv.h). Everything here
// works on std::string_view into one buffer holding the whole file: a row costs a few memchr-like
// scans and no allocation (the field vector is reused), for the 1 M rows/s target.
// Numbers go through std::from_chars: locale-independent ("1.5" is 1.5 under a German locale
// too) and without exceptions, so no input can throw across this layer.

#include "sim/trace/csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace suanpan::sim {

StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgumentError(fmt::format("{}: is a directory, expected a file", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) {
    return InternalError(fmt::format("{}: cannot size: {}", path, std::strerror(errno)));
  }
  std::string text(static_cast<size_t>(size), '\0');
  in.seekg(0, std::ios::beg);
  if (size > 0 && !in.read(text.data(), static_cast<std::streamsize>(size))) {
    return InternalError(fmt::format("{}: read failed: {}", path, std::strerror(errno)));
  }
  return text;
}

std::optional<std::string_view> LineSplitter::Next() {
  if (pos_ >= text_.size()) return std::nullopt;
  size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  std::string_view line = text_.substr(pos_, end - pos_);
  pos_ = end + 1;
  ++line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

const std::vector<std::string_view>& FieldSplitter::Split(std::string_view line) {
  fields_.clear();
  const bool trim_tabs = separator_ != '\t';
  auto trim = [trim_tabs](std::string_view s) {
    auto blank = [trim_tabs](char c) { return c == ' ' || c == '\r' || (trim_tabs && c == '\t'); };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
  };
  size_t start = 0;
  while (true) {
    const size_t end = line.find(separator_, start);
    if (end == std::string_view::npos) {
      fields_.push_back(trim(line.substr(start)));
      break;
    }
    fields_.push_back(trim(line.substr(start, end - start)));
    start = end + 1;
  }
  return fields_;
}

std::string_view Trim(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

bool IsBlank(std::string_view line) { return Trim(line).empty(); }

size_t CountLines(std::string_view text) {
  const size_t newlines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

std::optional<int64_t> ParseInt(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<double> ParseDouble(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int64_t> RoundSeconds(double seconds) {
  if (!std::isfinite(seconds) || std::fabs(seconds) >= 1e15) return std::nullopt;
  return static_cast<int64_t>(std::llround(seconds));
}

std::optional<int64_t> ParseSeconds(std::string_view text) {
  // Integers (most rows of most traces) skip the floating-point path.
  if (std::optional<int64_t> whole = ParseInt(text)) {
    if (*whole <= -1'000'000'000'000'000 || *whole >= 1'000'000'000'000'000) return std::nullopt;
    return whole;
  }
  std::optional<double> value = ParseDouble(text);
  if (!value) return std::nullopt;
  return RoundSeconds(*value);
}

std::optional<size_t> FindColumn(const std::vector<std::string_view>& header,
                                 std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (Trim(header[i]) == name) return i;
  }
  return std::nullopt;
}

Status RowProblems::Skip(size_t line, std::string_view reason) {
  std::string message = fmt::format("{}:{}: {}", file_, line, reason);
  if (options_.strict) return InvalidArgumentError(std::move(message));
  ++trace_.skipped;
  if (trace_.problems.size() < options_.max_problems) {
    trace_.problems.push_back(std::move(message));
  }
  return OkStatus();
}

}  // namespace suanpan::sim

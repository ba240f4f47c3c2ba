#pragma once
// Text plumbing shared by the trace readers: a file is read into one std::string, then cut into
// lines and fields as std::string_view (no copy, no allocation per field), and numbers are parsed
// with std::from_chars (no exceptions, no locale). The target is at least a million rows a second
// per reader (the 82,247-row, 3.4 MB Philly list in well under 0.1 s: one read, one pass); it
// still has to be measured in bench/.
//
// What the splitters accept, because the public traces have all of it: "\n" or "\r\n" line ends,
// a missing final newline, blank lines (skipped by the readers), spaces around fields
// ("m0,2, 12GB"), empty trailing cells ("a,b," is three fields, the last empty). What they do not
// do: quoting ("a,\"b,c\"" is three fields) and comments; no trace we read uses either.
//
//   LineSplitter lines(text);
//   FieldSplitter fields(',');
//   while (std::optional<std::string_view> line = lines.Next()) {
//     if (IsBlank(*line)) continue;
//     const std::vector<std::string_view>& cells = fields.Split(*line);  // valid until next Split
//     std::optional<int64_t> gpus = ParseInt(cells[2]);  // "8" -> 8, "8.0" -> nullopt
//   }

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {

// Reads a whole file. NotFound names the path and the OS error ("x.csv: cannot open: No such file
// or directory"); a directory is InvalidArgument.
StatusOr<std::string> ReadTextFile(const std::string& path);

// Cuts a text into lines. Each line comes without its "\n" / "\r\n"; a final line without a
// newline is returned too; an empty text has no lines. O(length) in all.
class LineSplitter {
 public:
  explicit LineSplitter(std::string_view text) : text_(text) {}
  // The next line, or nullopt at the end.
  std::optional<std::string_view> Next();
  // 1-based number of the line last returned by Next() (0 before the first).
  size_t line_number() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

// Splits a line at `separator` and trims each field of spaces (and of tabs, unless the separator
// is a tab). The returned vector is owned by the splitter and reused, so after the first few rows
// no call allocates; the views point into the line.
class FieldSplitter {
 public:
  explicit FieldSplitter(char separator) : separator_(separator) {}
  const std::vector<std::string_view>& Split(std::string_view line);

 private:
  char separator_;
  std::vector<std::string_view> fields_;
};

// Strips ' ', '\t' and '\r' from both ends.
std::string_view Trim(std::string_view text);
// True when the line holds only spaces, tabs or '\r'.
bool IsBlank(std::string_view line);
// Number of lines in `text` (for reserving): '\n' count, plus one for an unterminated last line.
size_t CountLines(std::string_view text);

// A whole decimal integer with an optional leading '-': "8", "-3". Anything else (empty, "8.0",
// "+8", "8 GPUs", overflow) is nullopt.
std::optional<int64_t> ParseInt(std::string_view text);
// A finite decimal number: "66.0", "1e3", "-0.5". No hex, inf or nan; nullopt otherwise.
std::optional<double> ParseDouble(std::string_view text);
// Seconds as an integer or a decimal, rounded to the nearest second, halves away from zero:
// "860662.0" -> 860662, "163.661794" -> 164, "40.5" -> 41. nullopt when not a number or when
// |value| >= 1e15 s (30 million years: certainly a unit mistake).
std::optional<int64_t> ParseSeconds(std::string_view text);
// Rounds computed seconds the same way; nullopt when not finite or |value| >= 1e15.
std::optional<int64_t> RoundSeconds(double seconds);

// Position of `name` in a header row (exact match after trimming), or nullopt.
std::optional<size_t> FindColumn(const std::vector<std::string_view>& header,
                                 std::string_view name);

// Bookkeeping for bad rows, the same in every reader: each is counted in trace.skipped and the
// first options.max_problems messages "file:line: reason" go to trace.problems. With
// options.strict, Skip returns the error and the reader returns it at once:
//   if (!gpus) { SP_RETURN_IF_ERROR(problems.Skip(line, "num_gpus: not an integer")); continue; }
class RowProblems {
 public:
  RowProblems(std::string_view file, const ReadOptions& options, Trace& trace)
      : file_(file), options_(options), trace_(trace) {}
  Status Skip(size_t line, std::string_view reason);

 private:
  std::string_view file_;
  const ReadOptions& options_;
  Trace& trace_;
};

}  // namespace suanpan::sim

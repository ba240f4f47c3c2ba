#pragma once
// Plain text tables that fit a terminal: columns sized to their widest cell, numbers right-aligned,
// the last column cut to `max_width` when set.

#include <string>
#include <vector>

namespace suanpan::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> right_aligned = {});
  void Add(std::vector<std::string> row);
  std::string Render(size_t max_width = 0) const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// 52400 -> "52,400".
std::string Thousands(int64_t n);
// Display width of UTF-8 text (code points; wide CJK counted as 2).
size_t DisplayWidth(const std::string& s);

}  // namespace suanpan::cli

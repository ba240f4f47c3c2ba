#pragma once
// Reading a TOML document field by field, with file:line and the field's path in every error
// ("pool.toml:12: providers[0].margin_percent: must be a number, got the string \"x\"") and
// unknown keys refused (a typo must not be silently ignored). Used by every TOML reader (pool
// files, money files).

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "base/status.h"
#include "config/pool_file.h"  // ParseFixed

namespace suanpan::config {

class Walker {
 public:
  Walker(std::string_view file) : file_(file) {}

  Status Error(const toml::node& node, std::string_view path, std::string message) const {
    return InvalidArgumentError(
        fmt::format("{}:{}: {}: {}", file_, node.source().begin.line, path, message));
  }
  // An error about `field` of `table`: reported at the field's own line when it is present.
  Status FieldError(const toml::node& table, std::string_view path, std::string_view field,
                    std::string message) const {
    const toml::node* at = &table;
    if (const toml::table* t = table.as_table()) {
      if (const toml::node* n = t->get(field)) at = n;
    }
    return InvalidArgumentError(
        fmt::format("{}:{}: {}.{}: {}", file_, at->source().begin.line, path, field, message));
  }
  // Adds file:line and the path to an error from the core builders. Their messages start with
  // the field they are about ("count: must be in 1..100000, got 0"); that field's line is used.
  Status Wrap(const toml::node& node, std::string_view path, const Status& s) const {
    const std::string& m = s.message();
    const size_t colon = m.find(": ");
    if (colon != std::string::npos && colon > 0 &&
        m.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == colon) {
      Status e = FieldError(node, path, m.substr(0, colon), m.substr(colon + 2));
      return Status(s.code(), e.message());
    }
    return Status(s.code(), fmt::format("{}:{}: {}: {}", file_, node.source().begin.line, path, m));
  }
  std::string_view file() const { return file_; }

 private:
  std::string_view file_;
};

// One TOML table being read: typed getters, and at the end a check that no key was left unread.
class Fields {
 public:
  Fields(const Walker& w, const toml::table& table, std::string path)
      : w_(w), table_(table), path_(std::move(path)) {}

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  const toml::node* Get(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
  }
  Status Missing(std::string_view key) const {
    return w_.Error(table_, Path(key), "required field is missing");
  }

  StatusOr<std::string> String(std::string_view key, std::optional<std::string> fallback = {}) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      return Missing(key);
    }
    if (!n->is_string()) return w_.Error(*n, Path(key), TypeError("a string", *n));
    return std::string(*n->value<std::string_view>());
  }

  StatusOr<int64_t> Int(std::string_view key, std::optional<int64_t> fallback = {}) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      return Missing(key);
    }
    if (!n->is_integer()) return w_.Error(*n, Path(key), TypeError("an integer", *n));
    return *n->value<int64_t>();
  }

  StatusOr<bool> Bool(std::string_view key, std::optional<bool> fallback = {}) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      return Missing(key);
    }
    if (!n->is_boolean()) return w_.Error(*n, Path(key), TypeError("true or false", *n));
    return *n->value<bool>();
  }

  // An integer or a decimal number, read exactly as a count of 1/scale units.
  StatusOr<int64_t> Fixed(std::string_view key, int64_t scale,
                          std::optional<int64_t> fallback = {}) {
    const toml::node* n = Get(key);
    if (n == nullptr) {
      if (fallback) return *fallback;
      return Missing(key);
    }
    return FixedOf(*n, Path(key), scale);
  }

  StatusOr<int64_t> FixedOf(const toml::node& n, const std::string& path, int64_t scale) const {
    std::string text;
    if (n.is_integer()) {
      text = fmt::format("{}", *n.value<int64_t>());
    } else if (n.is_floating_point()) {
      const double d = *n.value<double>();
      if (!std::isfinite(d)) return w_.Error(n, path, "must be a finite number");
      text = fmt::format("{}", d);  // shortest form that reads back as d: 14.5 -> "14.5"
      if (text.find_first_of("eE") != std::string::npos) text = fmt::format("{:.9f}", d);
    } else {
      return w_.Error(n, path, TypeError("a number", n));
    }
    auto v = ParseFixed(text, scale);
    if (!v.ok()) return w_.Wrap(n, path, v.status());
    return *v;
  }

  const toml::table* Table(std::string_view key) {
    const toml::node* n = Get(key);
    return n == nullptr ? nullptr : n->as_table();
  }
  StatusOr<const toml::array*> Array(std::string_view key) {
    const toml::node* n = Get(key);
    if (n == nullptr) return static_cast<const toml::array*>(nullptr);
    if (!n->is_array()) return w_.Error(*n, Path(key), TypeError("an array", *n));
    return n->as_array();
  }
  // An array of tables ([[key]]); each element must be a table.
  StatusOr<std::vector<const toml::table*>> Tables(std::string_view key) {
    SP_ASSIGN_OR_RETURN(const toml::array* a, Array(key));
    std::vector<const toml::table*> out;
    if (a == nullptr) return out;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table* t = (*a)[i].as_table();
      if (t == nullptr) {
        return w_.Error((*a)[i], fmt::format("{}[{}]", Path(key), i), "must be a table");
      }
      out.push_back(t);
    }
    return out;
  }

  Status Finish() const {
    for (auto&& [key, node] : table_) {
      if (!seen_.count(std::string(key.str()))) {
        return w_.Error(node, Path(key.str()), "unknown field");
      }
    }
    return OkStatus();
  }

  const toml::table& table() const { return table_; }

 private:
  static std::string TypeError(std::string_view want, const toml::node& n) {
    std::string got;
    switch (n.type()) {
      case toml::node_type::string:
        got = fmt::format("the string \"{}\"", *n.value<std::string_view>());
        break;
      case toml::node_type::integer:
        got = fmt::format("the integer {}", *n.value<int64_t>());
        break;
      case toml::node_type::floating_point:
        got = fmt::format("the number {}", *n.value<double>());
        break;
      case toml::node_type::boolean:
        got = *n.value<bool>() ? "true" : "false";
        break;
      case toml::node_type::table:
        got = "a table";
        break;
      case toml::node_type::array:
        got = "an array";
        break;
      default:
        got = "a date or time";
        break;
    }
    return fmt::format("must be {}, got {}", want, got);
  }

  const Walker& w_;
  const toml::table& table_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace suanpan::config

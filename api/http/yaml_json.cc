#include "api/http/yaml_json.h"

#include <cstdint>
#include <vector>

#include <fmt/format.h>

namespace backline::http {

namespace {

struct error_at {
  int line;
  std::string what;
};

struct line {
  int indent = 0;            // -1: blank or comment only
  std::string_view content;  // after the indentation
  int number = 0;            // 1-based
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The plain (unquoted) part before a " #" comment.
std::string_view strip_comment(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) return trim(s.substr(0, i));
  }
  return trim(s);
}

class parser {
 public:
  explicit parser(std::string_view text) {
    int number = 0;
    while (!text.empty() || number == 0) {
      auto nl = text.find('\n');
      auto raw = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      ++number;
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      line l;
      l.number = number;
      std::size_t i = 0;
      while (i < raw.size() && raw[i] == ' ') ++i;
      l.content = raw.substr(i);
      l.indent = int(i);
      auto t = trim(l.content);
      if (t.empty() || t.front() == '#') l.indent = -1;
      if (l.indent >= 0 && l.content.front() == '\t') throw error_at{number, "tab in indentation"};
      raw_.push_back(raw);
      lines_.push_back(l);
      if (nl == std::string_view::npos) break;
    }
  }

  nlohmann::ordered_json document() {
    skip_blank();
    if (pos_ < lines_.size() && trim(lines_[pos_].content) == "---") ++pos_;
    skip_blank();
    if (pos_ >= lines_.size()) return nullptr;
    auto j = block(0);
    skip_blank();
    if (pos_ < lines_.size()) throw error_at{cur().number, "unexpected content (indentation?)"};
    return j;
  }

 private:
  const line& cur() const { return lines_[pos_]; }
  void skip_blank() {
    while (pos_ < lines_.size() && lines_[pos_].indent < 0) ++pos_;
  }
  static bool is_dash(std::string_view c) { return c == "-" || c.starts_with("- "); }

  // Where the key of a mapping line ends (index of ':'), or npos.
  static std::size_t key_colon(std::string_view c) {
    if (c.empty() || c.front() == '[' || c.front() == '{' || is_dash(c))
      return std::string_view::npos;
    std::size_t i = 0;
    if (c.front() == '"' || c.front() == '\'') {
      char q = c.front();
      for (i = 1; i < c.size(); ++i) {
        if (q == '"' && c[i] == '\\')
          ++i;
        else if (c[i] == q)
          break;
      }
      ++i;
      while (i < c.size() && c[i] == ' ') ++i;
      if (i < c.size() && c[i] == ':' && (i + 1 == c.size() || c[i + 1] == ' ')) return i;
      return std::string_view::npos;
    }
    for (i = 0; i < c.size(); ++i) {
      if (c[i] == '#' && i > 0 && c[i - 1] == ' ') return std::string_view::npos;
      if (c[i] == ':' && (i + 1 == c.size() || c[i + 1] == ' ')) return i;
    }
    return std::string_view::npos;
  }

  nlohmann::ordered_json block(int min_indent) {
    skip_blank();
    if (pos_ >= lines_.size() || cur().indent < min_indent) return nullptr;
    auto c = cur().content;
    if (is_dash(c)) return sequence(cur().indent);
    if (key_colon(c) != std::string_view::npos) return mapping(cur().indent);
    auto n = cur().number;
    auto v = scalar(trim(c), n);
    ++pos_;
    return v;
  }

  nlohmann::ordered_json mapping(int indent) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    while (true) {
      skip_blank();
      if (pos_ >= lines_.size() || cur().indent < indent) break;
      if (cur().indent > indent) throw error_at{cur().number, "unexpected indentation"};
      auto c = cur().content;
      auto colon = key_colon(c);
      if (colon == std::string_view::npos) {
        if (is_dash(c)) break;  // a sequence at the parent's indent ends this mapping
        throw error_at{cur().number, "expected 'key: value'"};
      }
      int number = cur().number;
      auto key_text = trim(c.substr(0, colon));
      std::string key = key_text.front() == '"' || key_text.front() == '\''
                            ? scalar(key_text, number).get<std::string>()
                            : std::string(key_text);
      if (out.contains(key)) throw error_at{number, fmt::format("duplicate key '{}'", key)};
      auto rest = trim(c.substr(colon + 1));
      ++pos_;
      out[key] = value_after(rest, indent, number, true);
    }
    return out;
  }

  // The value of `key:` or `-` whose remaining text is `rest`, at `indent`.
  nlohmann::ordered_json value_after(std::string_view rest, int indent, int number,
                                     bool in_mapping) {
    auto bare = strip_comment(rest);
    if (!bare.empty() && (bare.front() == '|' || bare.front() == '>')) {
      return block_scalar(bare, indent, number);
    }
    if (!bare.empty()) return scalar(rest, number);
    skip_blank();
    if (pos_ >= lines_.size()) return nullptr;
    if (cur().indent > indent) return block(indent + 1);
    if (in_mapping && cur().indent == indent && is_dash(cur().content)) return sequence(indent);
    return nullptr;
  }

  nlohmann::ordered_json sequence(int indent) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    while (true) {
      skip_blank();
      if (pos_ >= lines_.size() || cur().indent < indent) break;
      if (cur().indent > indent) throw error_at{cur().number, "unexpected indentation"};
      auto c = cur().content;
      if (!is_dash(c)) break;
      int number = cur().number;
      auto after = c.substr(1);
      std::size_t spaces = 0;
      while (spaces < after.size() && after[spaces] == ' ') ++spaces;
      auto rest = after.substr(spaces);
      if (!rest.empty() && rest.front() != '#' &&
          (is_dash(rest) || key_colon(rest) != std::string_view::npos)) {
        // "- key: v": the item is a block starting at the key's column on this very line.
        lines_[pos_].indent = indent + 1 + int(spaces);
        lines_[pos_].content = rest;
        out.push_back(block(indent + 1));
        continue;
      }
      ++pos_;
      out.push_back(value_after(trim(rest), indent, number, false));
    }
    return out;
  }

  nlohmann::ordered_json block_scalar(std::string_view header, int parent_indent, int number) {
    bool literal = header.front() == '|';
    char chomp = header.size() > 1 ? header[1] : ' ';
    if (header.size() > 2 || (chomp != ' ' && chomp != '-' && chomp != '+')) {
      throw error_at{number, "unsupported block scalar header"};
    }
    std::vector<std::string_view> body;
    int block_indent = -1;
    while (pos_ < lines_.size()) {
      const auto& l = lines_[pos_];
      bool blank = trim(raw_[pos_]).empty();
      if (!blank) {
        int ind = l.indent >= 0 ? l.indent : int(raw_[pos_].find_first_not_of(' '));
        if (ind <= parent_indent) break;
        if (block_indent < 0) block_indent = ind;
        if (ind < block_indent) throw error_at{l.number, "block scalar less indented"};
        body.push_back(raw_[pos_].substr(std::size_t(block_indent)));
      } else {
        body.push_back({});
      }
      ++pos_;
    }
    std::size_t trailing_blank = 0;
    while (!body.empty() && body.back().empty()) {
      body.pop_back();
      ++trailing_blank;
    }
    std::string out;
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (i > 0) {
        // Folding: a line break between two text lines is a space; each blank line is one "\n".
        if (literal || body[i].empty())
          out += "\n";
        else if (!body[i - 1].empty())
          out += " ";
      }
      out += body[i];
    }
    if (!body.empty() && chomp != '-') out += "\n";
    if (chomp == '+') out.append(trailing_blank, '\n');
    return out;
  }

  static std::string double_quoted(std::string_view s, std::size_t& end, int number) {
    std::string out;
    for (std::size_t i = 1; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        end = i + 1;
        return out;
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (++i >= s.size()) break;
      switch (s[i]) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        default:
          throw error_at{number, "unsupported escape in a double-quoted scalar"};
      }
    }
    throw error_at{number, "unterminated double-quoted scalar"};
  }

  static std::string single_quoted(std::string_view s, std::size_t& end, int number) {
    std::string out;
    for (std::size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '\'') {
        if (i + 1 < s.size() && s[i + 1] == '\'') {
          out.push_back('\'');
          ++i;
          continue;
        }
        end = i + 1;
        return out;
      }
      out.push_back(s[i]);
    }
    throw error_at{number, "unterminated single-quoted scalar"};
  }

  static nlohmann::ordered_json plain(std::string_view s) {
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    std::size_t i = (s.front() == '-' || s.front() == '+') ? 1 : 0;
    std::size_t digits = 0, dots = 0;
    for (std::size_t k = i; k < s.size(); ++k) {
      if (s[k] >= '0' && s[k] <= '9')
        ++digits;
      else if (s[k] == '.')
        ++dots;
      else
        return std::string(s);
    }
    if (digits == 0 || dots > 1) return std::string(s);
    if (dots == 0 && s.size() - i <= 18) return std::stoll(std::string(s));
    return std::stod(std::string(s));
  }

  static std::vector<std::string_view> split_flow(std::string_view inner, int number) {
    std::vector<std::string_view> items;
    std::size_t start = 0;
    char quote = 0;
    for (std::size_t i = 0; i <= inner.size(); ++i) {
      char c = i < inner.size() ? inner[i] : ',';
      if (quote) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '"' || c == '\'')
        quote = c;
      else if (c == '[' || c == '{')
        throw error_at{number, "nested flow collections"};
      else if (c == ',') {
        auto item = trim(inner.substr(start, i - start));
        if (!item.empty()) items.push_back(item);
        start = i + 1;
      }
    }
    return items;
  }

  static nlohmann::ordered_json scalar(std::string_view s, int number) {
    s = trim(s);
    if (s.empty()) return nullptr;
    char f = s.front();
    if (f == '"' || f == '\'') {
      std::size_t end = 0;
      auto v = f == '"' ? double_quoted(s, end, number) : single_quoted(s, end, number);
      auto rest = trim(s.substr(end));
      if (!rest.empty() && rest.front() != '#')
        throw error_at{number, "text after a quoted scalar"};
      return v;
    }
    if (f == '&' || f == '*' || f == '!' || f == '%' || f == '@' || f == '`') {
      throw error_at{number, fmt::format("unsupported YAML ('{}')", f)};
    }
    s = strip_comment(s);
    if (f == '[' || f == '{') {
      char close = f == '[' ? ']' : '}';
      if (s.back() != close) throw error_at{number, "a flow collection stays on one line"};
      auto items = split_flow(s.substr(1, s.size() - 2), number);
      if (f == '[') {
        auto out = nlohmann::ordered_json::array();
        for (auto item : items) out.push_back(scalar(item, number));
        return out;
      }
      auto out = nlohmann::ordered_json::object();
      for (auto item : items) {
        auto colon = key_colon(item);
        if (colon == std::string_view::npos) throw error_at{number, "expected 'key: value'"};
        auto k = scalar(item.substr(0, colon), number);
        out[k.is_string() ? k.get<std::string>() : k.dump()] =
            scalar(item.substr(colon + 1), number);
      }
      return out;
    }
    return plain(s);
  }

  std::vector<std::string_view> raw_;
  std::vector<line> lines_;
  std::size_t pos_ = 0;
};

}  // namespace

std::expected<nlohmann::ordered_json, std::string> yaml_to_json(std::string_view yaml) {
  try {
    parser p(yaml);
    return p.document();
  } catch (const error_at& e) {
    return std::unexpected(fmt::format("line {}: {}", e.line, e.what));
  } catch (const std::exception& e) {  // std::stoll/stod out of range
    return std::unexpected(fmt::format("line ?: {}", e.what()));
  }
}

}  // namespace backline::http

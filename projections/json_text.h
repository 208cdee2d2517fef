#pragma once
// Private to projections/: a tiny writer of canonical JSON text, the bytes nlohmann::json's
// dump() gives for the same object (compact, keys in the order the caller writes them, which
// must be sorted; strings escaped as dump() escapes them). The records are written with it
// instead of building nlohmann::json objects (a std::map per object, an allocation per field),
// which was most of the projector's CPU. tests/projections/voice_call_test.cc proves the bytes
// equal dump(parse(bytes)).
//
// Invalid UTF-8 in a string is written as U+FFFD per bad byte (nlohmann's dump would throw), so
// every record parses.

#include <cstdint>
#include <string>
#include <string_view>

namespace backline::projections::json_text {

class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  void begin_object() {
    comma();
    out_.push_back('{');
    first_ = true;
  }
  void end_object() {
    out_.push_back('}');
    first_ = false;
  }
  void begin_array() {
    comma();
    out_.push_back('[');
    first_ = true;
  }
  void end_array() {
    out_.push_back(']');
    first_ = false;
  }
  // The key of the next value. REQUIRES: keys of one object written in sorted order.
  void key(std::string_view k) {
    comma();
    out_.push_back('"');
    out_.append(k);  // keys are identifiers: nothing to escape
    out_.append("\":", 2);
    first_ = true;  // the value follows without a comma
  }
  // A key that is data (a custom attribute's name): escaped like a string.
  void data_key(std::string_view k) {
    comma();
    escaped(k);
    out_.push_back(':');
    first_ = true;
  }
  void string(std::string_view s) {
    comma();
    escaped(s);
  }
  void number(std::int64_t v) {
    comma();
    char buf[24];
    char* end = buf + sizeof buf;
    char* p = end;
    std::uint64_t u = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    do {
      *--p = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) *--p = '-';
    out_.append(p, static_cast<std::size_t>(end - p));
  }
  void boolean(bool v) {
    comma();
    if (v) {
      out_.append("true", 4);
    } else {
      out_.append("false", 5);
    }
  }
  void null() {
    comma();
    out_.append("null", 4);
  }

  // Shorthands: one field.
  void field(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void field(std::string_view k, const char* v) { field(k, std::string_view(v)); }
  void field(std::string_view k, const std::string& v) { field(k, std::string_view(v)); }
  void field(std::string_view k, std::int64_t v) {
    key(k);
    number(v);
  }
  void field(std::string_view k, std::uint32_t v) { field(k, static_cast<std::int64_t>(v)); }
  void field(std::string_view k, bool v) {
    key(k);
    boolean(v);
  }
  void null_field(std::string_view k) {
    key(k);
    null();
  }

 private:
  void comma() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void escaped(std::string_view s);

  std::string& out_;
  bool first_ = true;
};

}  // namespace backline::projections::json_text

// How the relay reads: eventlog::log::visit_from (the allocation-free read of its relay thread,
// as a scan or of recent events) against read_from, a cursor that goes on from one read to the
// next against the same, and where publishing resumes: a stored position beyond the log's end
// is refused with a sentence that tells the operator what to do.
#include <filesystem>

#include "eventlog/kafka/dev_broker.h"
#include "eventlog/kafka/position_file.h"
#include "eventlog/kafka/publisher.h"
#include "tests/kafka/kafka_test_util.h"

namespace backline::kafka {
namespace {

using namespace std::chrono_literals;

std::string render(std::uint64_t position, const std::string& stream, std::uint64_t version,
                   const std::string& envelope) {
  return std::to_string(position) + " " + stream + "#" + std::to_string(version) + " " +
         std::to_string(envelope.size()) + "B " +
         std::to_string(std::hash<std::string>{}(envelope));
}

TEST(KafkaReading, VisitFromSeesWhatReadFromReturnsAndStopsWhenAsked) {
  eventlog::testing::temp_dir dir;
  auto log = eventlog::testing::open_log(dir.path() + "/log");
  ASSERT_TRUE(log);
  std::vector<std::uint64_t> versions;
  testing::append_events(*log, 300, 7, versions);

  for (const auto& [from, max] : std::vector<std::pair<std::uint64_t, std::size_t>>{
           {1, SIZE_MAX}, {0, 10}, {120, 64}, {290, 100}, {300, 5}, {301, 5}, {5, 0}}) {
    auto copies = log->read_from(from, max);
    ASSERT_TRUE(copies.has_value());
    std::string expected, got;
    for (const auto& r : *copies)
      expected += render(r.position, r.stream, r.stream_version, r.envelope) + "\n";
    for (const auto hint : {eventlog::read_hint::recent, eventlog::read_hint::scan}) {
      got.clear();
      auto visited = log->visit_from(
          from, max,
          [&got](const eventlog::record& r) {
            got += render(r.position, r.stream, r.stream_version, r.envelope) + "\n";
            return true;
          },
          hint);
      ASSERT_TRUE(visited.has_value());
      EXPECT_EQ(*visited, copies->size()) << "from " << from << " max " << max;
      EXPECT_EQ(got, expected) << "from " << from << " max " << max;
    }
  }

  std::vector<std::uint64_t> seen;
  auto stopped = log->visit_from(10, 100, [&seen](const eventlog::record& r) {
    seen.push_back(r.position);
    return r.position < 12;
  });
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(*stopped, 3u);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{10, 11, 12}));
}

// The relay's reads through a cursor: steps that continue each other, a pause (release), steps
// past the events the iterator saw when it was made, a stop and a read again of the stopped
// event (a rewind), a read back from an earlier position, and iterators remade every few
// events. Each read must return exactly what read_from returns for the same range.
TEST(KafkaReading, ACursorReadsWhatReadFromReturnsWhereverEachReadStarts) {
  for (const auto hint : {eventlog::read_hint::recent, eventlog::read_hint::scan}) {
    for (const std::size_t reopen_after : {std::size_t{1}, std::size_t{17}, std::size_t{65'536}}) {
      eventlog::testing::temp_dir dir;
      auto log = eventlog::testing::open_log(dir.path() + "/log");
      ASSERT_TRUE(log);
      std::vector<std::uint64_t> versions;
      testing::append_events(*log, 200, 7, versions);
      auto cursor = log->open_cursor(hint, reopen_after);
      auto read = [&](std::uint64_t from, std::size_t max, std::uint64_t stop_at = 0) {
        auto copies = log->read_from(from, max);
        EXPECT_TRUE(copies.has_value());
        std::string expected, got;
        for (const auto& r : *copies) {
          expected += render(r.position, r.stream, r.stream_version, r.envelope) + "\n";
          if (r.position == stop_at) break;
        }
        auto visited = cursor->visit_from(from, max, [&](const eventlog::record& r) {
          got += render(r.position, r.stream, r.stream_version, r.envelope) + "\n";
          return r.position != stop_at;
        });
        EXPECT_TRUE(visited.has_value());
        EXPECT_EQ(got, expected) << "from " << from << " max " << max << " reopen after "
                                 << reopen_after;
        return visited.value_or(0);
      };
      EXPECT_EQ(read(1, 64), 64u);
      EXPECT_EQ(read(65, 64), 64u);  // goes on
      cursor->release();             // a pause: the next read makes a new iterator
      EXPECT_EQ(read(129, 0), 0u);
      EXPECT_EQ(read(129, 64, 150), 22u);  // stops after 150
      EXPECT_EQ(read(150, 10), 10u);       // 150 again, as after a rewind
      EXPECT_EQ(read(160, 100), 41u);      // to the end of the log
      EXPECT_EQ(read(201, 10), 0u);        // nothing more yet
      testing::append_events(*log, 30, 7, versions);
      EXPECT_EQ(read(201, 100), 30u);  // commits after the iterator was made
      EXPECT_EQ(read(40, 5), 5u);      // back to an earlier position
      EXPECT_EQ(read(45, 0), 0u);
      EXPECT_EQ(read(45, 1), 1u);
    }
  }
}

TEST(KafkaReading, StoredPositionBeyondTheLogIsRefusedUntilTheOperatorRemovesTheFile) {
  eventlog::testing::temp_dir dir;
  auto log = eventlog::testing::open_log(dir.path() + "/log");
  ASSERT_TRUE(log);
  std::vector<std::uint64_t> versions;
  testing::append_events(*log, 40, 5, versions);
  // The position file of another, longer log: e.g. the data directory was replaced.
  const std::string state = dir.path() + "/state";
  std::filesystem::create_directories(state);
  const std::string file = position_file_path(state);
  ASSERT_TRUE(position_file(file).store(1'000).has_value());

  auto broker = dev_broker::start({.brokers = 1, .partitions = 2, .json_topics = false});
  ASSERT_TRUE(broker.has_value()) << broker.error();
  publisher_options o;
  o.bootstrap = (*broker)->bootstrap();
  o.state_dir = state;
  auto refused = publisher::start(*log, o);
  ASSERT_FALSE(refused.has_value()) << "a stored position beyond the log must not be skipped to";
  const std::string& why = refused.error();
  EXPECT_NE(why.find(file), std::string::npos) << why;
  EXPECT_NE(why.find("1000"), std::string::npos) << why;
  EXPECT_NE(why.find("ends at position 40"), std::string::npos) << why;
  EXPECT_NE(why.find("Remove " + file), std::string::npos) << why;
  EXPECT_EQ(position_file(file).load().value_or(0), 1'000u)
      << "the file is the operator's to remove";

  // As the sentence says: without the file, the whole log is published from its first event.
  std::filesystem::remove(file);
  auto p = publisher::start(*log, o);
  ASSERT_TRUE(p.has_value()) << p.error();
  EXPECT_TRUE((*p)->wait_published(40, 20s));
  p->reset();
  EXPECT_EQ(position_file(file).load().value_or(0), 40u);
}

}  // namespace
}  // namespace backline::kafka

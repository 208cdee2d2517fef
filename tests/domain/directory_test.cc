#include "actors/domain/directory.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backline::domain {
namespace {

agent_entry make_agent(std::string id, std::string team, agent_kind kind = agent_kind::agent,
                       supervision_grants grants = {}) {
  agent_entry a;
  a.id = id;
  a.name = "Name of " + id;
  a.extension = "";
  a.team = std::move(team);
  a.kind = kind;
  a.grants = std::move(grants);
  return a;
}

// tier1: alice; tier2: ivan; no team: nomad; specialist: mallory.
// peggy: every mode over tier1; quentin: monitor over tier1 only; root: "*" in every mode;
// bare: a supervisor with no grants; mole: an agent that carries grants it must not use.
directory make_directory() {
  directory d;
  d.call_center = "test_center";
  d.agents = {
      make_agent("alice", "tier1"),
      make_agent("ivan", "tier2"),
      make_agent("nomad", ""),
      make_agent("mallory", "specialists", agent_kind::specialist),
      make_agent("peggy", "supervisors", agent_kind::supervisor,
                 {.monitor = {"tier1"}, .whisper = {"tier1"}, .barge = {"tier1"}}),
      make_agent("quentin", "supervisors", agent_kind::supervisor, {.monitor = {"tier1"}}),
      make_agent("root", "supervisors", agent_kind::supervisor,
                 {.monitor = {"*"}, .whisper = {"*"}, .barge = {"*"}}),
      make_agent("bare", "supervisors", agent_kind::supervisor),
      make_agent("mole", "tier1", agent_kind::agent,
                 {.monitor = {"*"}, .whisper = {"*"}, .barge = {"*"}}),
  };
  d.agents[0].extension = "2001";
  d.agents[1].extension = "2101";
  queue_entry general;
  general.name = "General";
  general.extension = "3000";
  d.queues.push_back(general);
  phone_channel main;
  main.number = "+14155550100";
  main.flow = "support_main";
  main.fallback_queue = "General";
  d.channels.push_back(main);
  return d;
}

agent_entry& agent_of(directory& d, std::string_view id) {
  for (agent_entry& a : d.agents)
    if (a.id == id) return a;
  ADD_FAILURE() << "no agent " << id;
  return d.agents.front();
}

constexpr supervise_mode all_modes[] = {supervise_mode::monitor, supervise_mode::whisper,
                                        supervise_mode::barge};

TEST(Directory, ModeAndKindNamesAreStable) {
  EXPECT_EQ(to_string(supervise_mode::monitor), "monitor");
  EXPECT_EQ(to_string(supervise_mode::whisper), "whisper");
  EXPECT_EQ(to_string(supervise_mode::barge), "barge");
  EXPECT_EQ(to_string(agent_kind::agent), "agent");
  EXPECT_EQ(to_string(agent_kind::supervisor), "supervisor");
  EXPECT_EQ(to_string(agent_kind::specialist), "specialist");
}

TEST(Directory, FindsAgentsQueuesAndChannelsByTheirKeys) {
  const directory d = make_directory();
  ASSERT_NE(d.find_agent("alice"), nullptr);
  EXPECT_EQ(d.find_agent("alice")->team, "tier1");
  ASSERT_NE(d.find_extension("2101"), nullptr);
  EXPECT_EQ(d.find_extension("2101")->id, "ivan");
  ASSERT_NE(d.find_queue("General"), nullptr);
  EXPECT_EQ(d.find_queue("General")->extension, "3000");
  ASSERT_NE(d.find_channel("+14155550100"), nullptr);
  EXPECT_EQ(d.find_channel("+14155550100")->flow, "support_main");
}

TEST(Directory, LookupsOfUnknownKeysFindNothing) {
  const directory d = make_directory();
  EXPECT_EQ(d.find_agent("zed"), nullptr);
  EXPECT_EQ(d.find_agent(""), nullptr);
  EXPECT_EQ(d.find_extension("9999"), nullptr);
  EXPECT_EQ(d.find_queue("general"), nullptr);  // names are case-sensitive
  EXPECT_EQ(d.find_channel("+14155550101"), nullptr);
}

TEST(Directory, AnEmptyExtensionDialsNobody) {
  const directory d = make_directory();  // most agents have no extension
  EXPECT_EQ(d.find_extension(""), nullptr);
}

TEST(Directory, FullyGrantedSupervisorMaySuperviseTheTeamInEveryMode) {
  const directory d = make_directory();
  for (supervise_mode m : all_modes)
    EXPECT_TRUE(d.may_supervise("peggy", m, "alice")) << to_string(m);
}

TEST(Directory, GrantsCoverOnlyTheNamedTeams) {
  const directory d = make_directory();
  for (supervise_mode m : all_modes) {
    EXPECT_FALSE(d.may_supervise("peggy", m, "ivan")) << to_string(m);     // tier2
    EXPECT_FALSE(d.may_supervise("peggy", m, "mallory")) << to_string(m);  // specialists
    EXPECT_FALSE(d.may_supervise("peggy", m, "nomad")) << to_string(m);    // no team
  }
}

TEST(Directory, MonitorGrantAllowsMonitorOnly) {
  const directory d = make_directory();
  EXPECT_TRUE(d.may_supervise("quentin", supervise_mode::monitor, "alice"));
  EXPECT_FALSE(d.may_supervise("quentin", supervise_mode::whisper, "alice"));
  EXPECT_FALSE(d.may_supervise("quentin", supervise_mode::barge, "alice"));
}

TEST(Directory, WhisperNeedsItsOwnGrant) {
  directory d = make_directory();
  agent_entry& quentin = agent_of(d, "quentin");
  quentin.grants = {.monitor = {"tier1"}, .whisper = {}, .barge = {"tier1"}};
  EXPECT_FALSE(d.may_supervise("quentin", supervise_mode::whisper, "alice"));
  quentin.grants.whisper = {"tier1"};
  EXPECT_TRUE(d.may_supervise("quentin", supervise_mode::whisper, "alice"));
}

TEST(Directory, BargeNeedsItsOwnGrant) {
  directory d = make_directory();
  agent_entry& quentin = agent_of(d, "quentin");
  quentin.grants = {.monitor = {"tier1"}, .whisper = {"tier1"}, .barge = {"tier2"}};
  EXPECT_FALSE(d.may_supervise("quentin", supervise_mode::barge, "alice"));
  EXPECT_TRUE(d.may_supervise("quentin", supervise_mode::barge, "ivan"));
}

TEST(Directory, MonitorNeedsItsOwnGrant) {
  directory d = make_directory();
  agent_entry& quentin = agent_of(d, "quentin");
  quentin.grants = {.monitor = {}, .whisper = {"tier1"}, .barge = {"tier1"}};
  EXPECT_FALSE(d.may_supervise("quentin", supervise_mode::monitor, "alice"));
  EXPECT_TRUE(d.may_supervise("quentin", supervise_mode::whisper, "alice"));
}

TEST(Directory, StarGrantCoversEveryTeamIncludingAgentsWithoutOne) {
  const directory d = make_directory();
  for (supervise_mode m : all_modes) {
    for (const char* agent : {"alice", "ivan", "nomad", "mallory", "quentin"})
      EXPECT_TRUE(d.may_supervise("root", m, agent)) << to_string(m) << " " << agent;
  }
}

TEST(Directory, SupervisorWithoutGrantsIsDeniedEverything) {
  const directory d = make_directory();
  for (supervise_mode m : all_modes) {
    for (const char* agent : {"alice", "ivan", "nomad"})
      EXPECT_FALSE(d.may_supervise("bare", m, agent)) << to_string(m) << " " << agent;
  }
}

TEST(Directory, OnlySupervisorsMaySuperviseWhateverTheirGrants) {
  const directory d = make_directory();
  for (supervise_mode m : all_modes) {
    EXPECT_FALSE(d.may_supervise("mole", m, "alice")) << to_string(m);     // agent with grants
    EXPECT_FALSE(d.may_supervise("alice", m, "ivan")) << to_string(m);     // plain agent
    EXPECT_FALSE(d.may_supervise("mallory", m, "alice")) << to_string(m);  // specialist
  }
}

TEST(Directory, UnknownIdsAreDenied) {
  const directory d = make_directory();
  for (supervise_mode m : all_modes) {
    EXPECT_FALSE(d.may_supervise("nobody", m, "alice")) << to_string(m);
    EXPECT_FALSE(d.may_supervise("root", m, "nobody")) << to_string(m);  // "*" names teams only
    EXPECT_FALSE(d.may_supervise("", m, "")) << to_string(m);
  }
}

TEST(Directory, ASupervisorDoesNotSuperviseThemself) {
  const directory d = make_directory();
  for (supervise_mode m : all_modes) EXPECT_FALSE(d.may_supervise("root", m, "root"));
}

TEST(Directory, AnEmptyTeamInAGrantDoesNotCoverAgentsWithoutATeam) {
  directory d = make_directory();
  agent_of(d, "bare").grants.monitor = {""};
  EXPECT_FALSE(d.may_supervise("bare", supervise_mode::monitor, "nomad"));
}

TEST(Directory, AnOutOfRangeModeIsDenied) {
  const directory d = make_directory();
  EXPECT_FALSE(d.may_supervise("root", static_cast<supervise_mode>(7), "alice"));
}

TEST(Directory, CopiesCompareEqualAndAnyFieldChangeIsSeen) {
  const directory d = make_directory();
  directory copy = d;
  EXPECT_EQ(copy, d);
  agent_of(copy, "quentin").grants.barge = {"tier1"};
  EXPECT_NE(copy, d);
}

TEST(DirectoryIndex, FindsWhatAScanFinds) {
  directory scanned = make_directory();
  directory indexed = scanned;
  indexed.reindex();
  for (const agent_entry& a : scanned.agents) {
    EXPECT_EQ(indexed.find_agent(a.id), &indexed.agents[&a - scanned.agents.data()]);
  }
  EXPECT_EQ(indexed.find_extension("2101")->id, "ivan");
  EXPECT_EQ(indexed.find_queue("General")->extension, "3000");
  EXPECT_EQ(indexed.find_channel("+14155550100")->flow, "support_main");
  EXPECT_EQ(indexed.find_agent("nobody"), nullptr);
  EXPECT_EQ(indexed.find_extension("9999"), nullptr);
  EXPECT_EQ(indexed.find_extension(""), nullptr);
  EXPECT_EQ(indexed.find_queue("Nowhere"), nullptr);
  EXPECT_EQ(indexed, scanned);  // the index is not part of the value
}

TEST(DirectoryIndex, LookupsStayCorrectAfterTheEntriesChange) {
  directory d = make_directory();
  d.reindex();
  agent_of(d, "alice").id = "alicia";  // renamed after the index was built
  EXPECT_EQ(d.find_agent("alice"), nullptr);
  d.agents.push_back(make_agent("zed", "tier1"));  // added: the index is stale by count
  EXPECT_EQ(d.find_agent("zed")->team, "tier1");
  EXPECT_EQ(d.find_agent("alicia")->extension, "2001");
  d.queues.erase(d.queues.begin());
  EXPECT_EQ(d.find_queue("General"), nullptr);
}

}  // namespace
}  // namespace backline::domain

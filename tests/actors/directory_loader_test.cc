#include "actors/directory_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace backline::actors {
namespace {

using domain::agent_kind;
using domain::supervise_mode;
using ::testing::HasSubstr;

const std::string demo_path = std::string(BACKLINE_SOURCE_DIR) + "/deploy/demo-callcenter.toml";

// A valid directory; the error cases append to it. Line numbers matter: the next line is 10.
constexpr std::string_view base = R"([call_center]
name = "test_center"
[[agents]]
id = "alice"
name = "Alice"
extension = "2001"
team = "tier1"
[[queues]]
name = "General"
)";

TEST(DirectoryLoader, TheDemoCallCenterLoads) {
  auto d = load_directory_file(demo_path);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->call_center, "acme_support");
  EXPECT_EQ(d->agents.size(), 17u);
  auto count = [&](agent_kind k, std::string_view team) {
    return std::ranges::count_if(d->agents,
                                 [&](const auto& a) { return a.kind == k && a.team == team; });
  };
  EXPECT_EQ(count(agent_kind::agent, "tier1"), 8);
  EXPECT_EQ(count(agent_kind::agent, "tier2"), 4);
  EXPECT_EQ(count(agent_kind::specialist, "specialists"), 3);
  EXPECT_EQ(count(agent_kind::supervisor, "supervisors"), 2);
  EXPECT_EQ(d->queues.size(), 5u);
  ASSERT_EQ(d->channels.size(), 2u);
  EXPECT_EQ(d->channels[0].rules.size(), 4u);
  EXPECT_EQ(d->channels[1].rules.size(), 2u);
  EXPECT_FALSE(d->recording.record_internal);
  EXPECT_EQ(d->recording.forbidden_jurisdictions, std::vector<std::string>{"DE"});
}

TEST(DirectoryLoader, TheDemoSupervisorsHaveTheirDocumentedGrants) {
  auto d = load_directory_file(demo_path);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  for (supervise_mode m :
       {supervise_mode::monitor, supervise_mode::whisper, supervise_mode::barge}) {
    EXPECT_TRUE(d->may_supervise("peggy", m, "alice"));
    EXPECT_TRUE(d->may_supervise("peggy", m, "ivan"));
    EXPECT_TRUE(d->may_supervise("peggy", m, "mallory"));  // a specialist
    EXPECT_FALSE(d->may_supervise("quentin", m, "ivan"));
    EXPECT_FALSE(d->may_supervise("quentin", m, "mallory"));
  }
  EXPECT_TRUE(d->may_supervise("quentin", supervise_mode::monitor, "alice"));
  EXPECT_FALSE(d->may_supervise("quentin", supervise_mode::whisper, "alice"));
  EXPECT_FALSE(d->may_supervise("quentin", supervise_mode::barge, "alice"));
}

TEST(DirectoryLoader, TheDemoFieldsAreReadAsWritten) {
  auto d = load_directory_file(demo_path);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  const domain::agent_entry* ivan = d->find_extension("2101");
  ASSERT_NE(ivan, nullptr);
  EXPECT_EQ(ivan->id, "ivan");
  EXPECT_EQ(ivan->capacity, 2);
  EXPECT_EQ(ivan->skills,
            (std::vector<domain::skill>{{"billing", 5}, {"general", 8}, {"technical", 7}}));
  const domain::queue_entry* billing = d->find_queue("Billing");
  ASSERT_NE(billing, nullptr);
  EXPECT_EQ(billing->overflow_after_s, 120);
  EXPECT_EQ(billing->overflow_queue, "Tier2 escalation");
  EXPECT_EQ(d->find_queue("Technical")->strategy, domain::routing_strategy::most_skilled);
  const domain::phone_channel* cancel = d->find_channel("+14155550199");
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(cancel->fallback_queue, "Retention");
  EXPECT_EQ(cancel->rules.back().agent, "olivia");
  EXPECT_EQ(cancel->rules.back().queue, "");
}

TEST(DirectoryLoader, ALoadedDirectoryComparesEqualOnReload) {
  auto first = load_directory_file(demo_path);
  auto second = load_directory_file(demo_path);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(*first, *second);
  auto changed = *second;
  changed.agents[3].skills[0].level += 1;
  EXPECT_NE(*first, changed);
}

TEST(DirectoryLoader, OmittedOptionalFieldsTakeTheirDefaults) {
  auto d = load_directory(base, "test.toml");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  const domain::agent_entry& alice = d->agents.at(0);
  EXPECT_EQ(alice.kind, agent_kind::agent);
  EXPECT_EQ(alice.capacity, 1);
  EXPECT_TRUE(alice.skills.empty());
  EXPECT_EQ(alice.grants, domain::supervision_grants{});
  const domain::queue_entry& general = d->queues.at(0);
  EXPECT_EQ(general.strategy, domain::routing_strategy::longest_idle);
  EXPECT_EQ(general.sla_target_s, 20);
  EXPECT_EQ(general.overflow_after_s, 0);
  EXPECT_EQ(d->recording, domain::recording_policy{});
}

TEST(DirectoryLoader, StringsOfExactlyTheLimitAreAccepted) {
  std::string text(base);
  text += fmt::format("[[agents]]\nid = \"bob\"\nname = \"{}\"\n",
                      std::string(directory_string_bytes_max, 'x'));
  auto d = load_directory(text, "test.toml");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->agents.at(1).name.size(), directory_string_bytes_max);
}

// One invalid document: what is appended to `base` (or the whole text when `whole`), and where
// and what the loader must report.
struct bad_case {
  const char* behaviour;  // the test's name
  std::string text;
  std::size_t line;
  std::string key;
  std::string says;
  bool whole = false;
};

void PrintTo(const bad_case& c, std::ostream* os) {
  *os << c.behaviour;
}

class DirectoryLoaderRefuses : public ::testing::TestWithParam<bad_case> {};

TEST_P(DirectoryLoaderRefuses, WithTheLineKeyAndFix) {
  const bad_case& c = GetParam();
  std::string text = c.whole ? c.text : std::string(base) + c.text;
  auto d = load_directory(text, "test.toml");
  ASSERT_FALSE(d.has_value()) << "accepted:\n" << text;
  const load_error& e = d.error();
  EXPECT_EQ(e.source, "test.toml");
  ASSERT_FALSE(e.problems.empty());
  const load_problem& p = e.problems.front();
  EXPECT_EQ(p.line, c.line) << e.message;
  EXPECT_EQ(p.key, c.key) << e.message;
  EXPECT_THAT(p.text, HasSubstr(c.says));
  EXPECT_THAT(e.message, HasSubstr(fmt::format("test.toml:{}:", c.line)));
  EXPECT_THAT(e.message, HasSubstr(c.key));
}

const std::string long_name(directory_string_bytes_max + 1, 'x');

INSTANTIATE_TEST_SUITE_P(
    Directory, DirectoryLoaderRefuses,
    ::testing::Values(
        // Syntax and shape.
        bad_case{"SyntaxError", "[[agents]]\nid = \"bob\nname = \"Bob\"\n", 11, "",
                 "TOML syntax error"},
        bad_case{"MissingCallCenter", "[[agents]]\nid = \"a\"\nname = \"A\"\n", 1, "call_center",
                 "add it with name", true},
        bad_case{"MissingCallCenterName", "[call_center]\n\n[recording]\n", 1, "call_center.name",
                 "missing required key", true},
        bad_case{"UnknownTopLevelKey", "[routing]\nstrategy = \"x\"\n", 10, "routing",
                 "unknown key"},
        bad_case{"TypoInAgentKey", "[[agents]]\nid = \"bob\"\nname = \"Bob\"\ncapactiy = 2\n", 13,
                 "agents[1].capactiy", "did you mean \"capacity\"?"},
        bad_case{"TypoInGrantMode",
                 "[[agents]]\nid = \"sup\"\nname = \"S\"\nkind = \"supervisor\"\n"
                 "grants = { listen = [\"tier1\"] }\n",
                 14, "agents[1].grants.listen", "unknown key"},
        bad_case{"AgentsAsAPlainTable", "[call_center]\nname = \"c\"\n[agents]\nid = \"a\"\n", 3,
                 "agents", "start each entry with [[agents]]", true},
        bad_case{"WrongType", "[[agents]]\nid = \"bob\"\nname = \"Bob\"\ncapacity = \"2\"\n", 13,
                 "agents[1].capacity", "expected a whole number, found a string"},
        // Required fields.
        bad_case{"AgentWithoutId", "[[agents]]\nname = \"Bob\"\n", 10, "agents[1].id", "add id = "},
        bad_case{"AgentWithoutName", "[[agents]]\nid = \"bob\"\n", 10, "agents[1].name",
                 "add name = "},
        bad_case{"AgentWithEmptyId", "[[agents]]\nid = \"\"\nname = \"Bob\"\n", 11, "agents[1].id",
                 "must not be empty"},
        bad_case{"QueueWithoutName", "[[queues]]\nextension = \"3001\"\n", 10, "queues[1].name",
                 "missing required key"},
        bad_case{"ChannelWithoutNumber",
                 "[[channels]]\nflow = \"f\"\nfallback_queue = \"General\"\n", 10,
                 "channels[0].number", "missing required key"},
        bad_case{"ChannelWithoutFallbackQueue",
                 "[[channels]]\nnumber = \"+4930123\"\nflow = \"f\"\n", 10,
                 "channels[0].fallback_queue", "missing required key"},
        // Values and bounds.
        bad_case{"SkillLevelAboveTen",
                 "[[agents]]\nid = \"bob\"\nname = \"B\"\nskills = { x = 11 }\n", 13,
                 "agents[1].skills.x", "11 is out of range; use a value from 1 to 10"},
        bad_case{"SkillLevelZero", "[[queues]]\nname = \"Q\"\nrequired_skills = { billing = 0 }\n",
                 12, "queues[1].required_skills.billing", "out of range"},
        bad_case{"CapacityZero", "[[agents]]\nid = \"bob\"\nname = \"B\"\ncapacity = 0\n", 13,
                 "agents[1].capacity", "from 1 to 16"},
        bad_case{"CapacityAboveSixteen", "[[agents]]\nid = \"bob\"\nname = \"B\"\ncapacity = 17\n",
                 13, "agents[1].capacity", "from 1 to 16"},
        bad_case{"UnknownKind", "[[agents]]\nid = \"bob\"\nname = \"B\"\nkind = \"manager\"\n", 13,
                 "agents[1].kind", "use \"agent\", \"supervisor\" or \"specialist\""},
        bad_case{"GrantsOnANonSupervisor",
                 "[[agents]]\nid = \"bob\"\nname = \"B\"\ngrants = { monitor = [\"tier1\"] }\n", 13,
                 "agents[1].grants", "only supervisors hold supervision grants"},
        bad_case{"GrantOverAnUnknownTeam",
                 "[[agents]]\nid = \"sup\"\nname = \"S\"\nkind = \"supervisor\"\n"
                 "grants = { monitor = [\"tier2\"] }\n",
                 14, "agents[1].grants.monitor[0]", "no agent is in team \"tier2\""},
        bad_case{"UnknownStrategy", "[[queues]]\nname = \"Q\"\nstrategy = \"random\"\n", 12,
                 "queues[1].strategy", "use \"longest_idle\" or \"most_skilled\""},
        bad_case{"BadExtension", "[[agents]]\nid = \"bob\"\nname = \"B\"\nextension = \"20x1\"\n",
                 13, "agents[1].extension", "use 1 to 16 digits"},
        bad_case{"IdWithASpace", "[[agents]]\nid = \"bob smith\"\nname = \"B\"\n", 11,
                 "agents[1].id", "no spaces"},
        bad_case{"NumberNotE164",
                 "[[channels]]\nnumber = \"0301234\"\nflow = \"f\"\nfallback_queue = \"General\"\n",
                 11, "channels[0].number", "E.164"},
        bad_case{"LowerCaseJurisdiction", "[recording]\nforbidden_jurisdictions = [\"de\"]\n", 11,
                 "recording.forbidden_jurisdictions[0]", "upper-case ISO 3166"},
        bad_case{"RecordingFlagInQuotes", "[recording]\nrecord_internal = \"no\"\n", 11,
                 "recording.record_internal", "expected true or false"},
        bad_case{"OversizedName", "[[agents]]\nid = \"bob\"\nname = \"" + long_name + "\"\n", 12,
                 "agents[1].name", "is 129 bytes long; shorten it to at most 128 bytes"},
        bad_case{"OversizedSkillName",
                 "[[agents]]\nid = \"bob\"\nname = \"B\"\nskills = { " + long_name + " = 3 }\n", 13,
                 "agents[1].skills." + long_name, "shorten it"},
        bad_case{"ControlCharacterInName", "[[agents]]\nid = \"bob\"\nname = \"B\\tob\"\n", 12,
                 "agents[1].name", "control character"},
        // Uniqueness.
        bad_case{"DuplicateAgentId", "[[agents]]\nid = \"alice\"\nname = \"Other Alice\"\n", 11,
                 "agents[1].id", "agent id \"alice\" is already used on line 4"},
        bad_case{"QueueExtensionTakenByAnAgent", "[[queues]]\nname = \"Q\"\nextension = \"2001\"\n",
                 12, "queues[1].extension", "extension \"2001\" is already used on line 6"},
        bad_case{"DuplicateQueueName", "[[queues]]\nname = \"General\"\n", 11, "queues[1].name",
                 "already used on line 9"},
        bad_case{
            "DuplicateChannelNumber",
            "[[channels]]\nnumber = \"+4930123\"\nflow = \"a\"\nfallback_queue = \"General\"\n"
            "[[channels]]\nnumber = \"+4930123\"\nflow = \"b\"\nfallback_queue = \"General\"\n",
            15, "channels[1].number", "already used on line 11"},
        // References.
        bad_case{
            "RuleToAMisspelledQueue",
            "[[channels]]\nnumber = \"+4930123\"\nflow = \"f\"\nfallback_queue = \"General\"\n"
            "[[channels.rules]]\nfield = \"case_category\"\nvalue = \"x\"\nqueue = \"Genral\"\n",
            17, "channels[0].rules[0].queue", "did you mean \"General\"?"},
        bad_case{"RuleToAnUnknownAgent",
                 "[[channels]]\nnumber = \"+4930123\"\nflow = \"f\"\nfallback_queue = \"General\"\n"
                 "[[channels.rules]]\nfield = \"case_category\"\nvalue = \"x\"\nagent = \"zed\"\n",
                 17, "channels[0].rules[0].agent", "no agent has id \"zed\""},
        bad_case{"RuleWithoutTarget",
                 "[[channels]]\nnumber = \"+4930123\"\nflow = \"f\"\nfallback_queue = \"General\"\n"
                 "[[channels.rules]]\nfield = \"case_category\"\nvalue = \"x\"\n",
                 14, "channels[0].rules[0]", "add queue = \"...\" or agent = \"...\""},
        bad_case{
            "RuleWithTwoTargets",
            "[[channels]]\nnumber = \"+4930123\"\nflow = \"f\"\nfallback_queue = \"General\"\n"
            "[[channels.rules]]\nfield = \"case_category\"\nvalue = \"x\"\nqueue = \"General\"\n"
            "agent = \"alice\"\n",
            18, "channels[0].rules[0].agent", "not both"},
        bad_case{
            "FallbackToAnUnknownQueue",
            "[[channels]]\nnumber = \"+4930123\"\nflow = \"f\"\nfallback_queue = \"Nowhere\"\n", 13,
            "channels[0].fallback_queue", "no queue is named \"Nowhere\""},
        bad_case{"OverflowToAnUnknownQueue",
                 "[[queues]]\nname = \"Q\"\noverflow_after_s = 30\noverflow_queue = \"Nowhere\"\n",
                 13, "queues[1].overflow_queue", "no queue is named"},
        bad_case{"OverflowQueueWithoutDelay",
                 "[[queues]]\nname = \"Q\"\noverflow_queue = \"General\"\n", 12,
                 "queues[1].overflow_queue", "set overflow_after_s"},
        bad_case{"OverflowDelayWithoutQueue", "[[queues]]\nname = \"Q\"\noverflow_after_s = 30\n",
                 12, "queues[1].overflow_after_s", "name the queue"},
        bad_case{"OverflowLoop",
                 "overflow_after_s = 30\noverflow_queue = \"Q\"\n"
                 "[[queues]]\nname = \"Q\"\noverflow_after_s = 30\noverflow_queue = \"General\"\n",
                 11, "queues[0].overflow_queue", "General -> Q -> General"}),
    [](const ::testing::TestParamInfo<bad_case>& info) { return info.param.behaviour; });

TEST(DirectoryLoader, EveryProblemIsReportedInDocumentOrder) {
  std::string text(base);
  text += "[[agents]]\nid = \"bob\"\nname = \"B\"\ncapacity = 99\nskills = { x = 0 }\n";
  text += "[[queues]]\nname = \"Q\"\nstratgy = \"longest_idle\"\n";
  auto d = load_directory(text, "test.toml");
  ASSERT_FALSE(d.has_value());
  const auto& p = d.error().problems;
  ASSERT_EQ(p.size(), 3u) << d.error().message;
  EXPECT_EQ(p[0].line, 13u);
  EXPECT_EQ(p[1].line, 14u);
  EXPECT_EQ(p[2].line, 17u);
  EXPECT_EQ(d.error().message,
            "test.toml:13:12: agents[1].capacity: 99 is out of range; use a value from 1 to 16\n"
            "test.toml:14:16: agents[1].skills.x: 0 is out of range; use a value from 1 to 10\n"
            "test.toml:17:1: queues[1].stratgy: unknown key \"stratgy\"; did you mean "
            "\"strategy\"?");
}

TEST(DirectoryLoader, ProblemsBeyondTheLimitAreCountedNotListed) {
  std::string text(base);
  for (std::size_t i = 0; i < problems_max + 5; ++i)
    text += fmt::format("[[agents]]\nid = \"a{}\"\nname = \"A\"\ncapacity = 0\n", i);
  auto d = load_directory(text, "test.toml");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().problems.size(), problems_max + 1);
  EXPECT_THAT(d.error().message, HasSubstr("5 more problems not shown"));
}

TEST(DirectoryLoader, MoreAgentsThanTheBoundAreRefused) {
  std::string text = "agents = [\n";
  for (std::size_t i = 0; i <= directory_agents_max; ++i)
    text += fmt::format("{{ id = \"a{}\", name = \"A\" }},\n", i);
  text += "]\n[call_center]\nname = \"big\"\n";
  auto d = load_directory(text, "big.toml");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().problems.at(0).line, 1u);
  EXPECT_THAT(d.error().message, HasSubstr("agents: has 100001 entries; at most 100000 allowed"));
}

TEST(DirectoryLoader, AMissingFileIsReportedWithItsPath) {
  auto d = load_directory_file("no/such/directory.toml");
  ASSERT_FALSE(d.has_value());
  EXPECT_THAT(d.error().message, HasSubstr("no/such/directory.toml: cannot read the file"));
}

TEST(DirectoryLoader, ATextOverTheSizeBoundIsRefusedBeforeParsing) {
  std::string text(directory_text_bytes_max + 1, '#');
  auto d = load_directory(text, "huge.toml");
  ASSERT_FALSE(d.has_value());
  EXPECT_THAT(d.error().message, HasSubstr("at most"));
}

}  // namespace
}  // namespace backline::actors

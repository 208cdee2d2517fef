// backline: the Backline command-line tool. Reads a (possibly live) engine's event log and read
// models: tail events, fold a call as it stood at an instant, list calls, follow chains, draw
// reports, replay and verify the read models. Every subcommand opens its data read-only.
#include <unistd.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "tools/cli_calls.h"
#include "tools/cli_common.h"
#include "tools/cli_events.h"
#include "tools/cli_kafka.h"
#include "tools/cli_kafka_consume.h"
#include "tools/cli_output.h"
#include "tools/cli_token.h"
#include "tools/cli_views.h"

namespace {

using namespace backline::cli;

constexpr const char* exit_codes_help = R"(
Exit codes: 0 ok, 1 a verification or a diff failed, 2 usage error, 3 not found or I/O error.)";

// Options every subcommand takes. `-o` is kept as text: its default depends on the terminal.
struct common_flags {
  std::string data = "var";
  std::string output;

  void add_to(CLI::App* sub, bool with_output = true) {
    sub->add_option("--data", data, "data directory of backlined (its event log)")
        ->capture_default_str();
    if (with_output) {
      sub->add_option("-o,--output", output,
                      "output format: table|json|jsonl|csv (default: table on a terminal, "
                      "jsonl otherwise)")
          ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}));
    }
  }
  format fmt() const { return output.empty() ? default_format() : *parse_format(output); }
};

struct cli {
  CLI::App app{"backline: query, tail, replay and report on a Backline engine's data"};
  common_flags common;
  tail_options tail;
  kafka_tail_options kafka_tail;
  project_kafka_options project;
  call_get_options get;
  calls_list_options list;
  report_options rep;
  replay_options replay;
  kafka_dev_options kafka_dev;
  token_options token;
  std::string chain_id;
  int code = exit_ok;

  void add_events() {
    auto* events = app.add_subcommand("events", "the event log");
    events->require_subcommand(1);
    auto* t = events->add_subcommand("tail", "print events of the log (the last 20 by default)");
    common.add_to(t);
    t->add_flag("-f,--follow", tail.follow, "keep printing new events until Ctrl-C");
    t->add_option("--from", tail.from,
                  "start at a log POSITION, a TIME (RFC 3339 or Unix µs) or 'beginning'");
    t->add_option("-n,--count", tail.count, "without --from: how many of the last events")
        ->capture_default_str();
    t->add_option("--stream", tail.stream, "only this stream, e.g. call/<id> or agent/alice");
    t->add_option("--type", tail.type, "only this event type, e.g. call_created");
    t->add_option("--kafka", kafka_tail.bootstrap,
                  "read the events from Kafka (bootstrap servers) instead of the log, from the "
                  "beginning of every partition to its end (with -f: on)");
    t->add_option("--topic", kafka_tail.topics,
                  "with --kafka: this topic (repeatable; default: Backline's four topics)");
    t->footer(R"(Examples:
  backline events tail                                # the last 20 events
  backline events tail -f                             # ... then follow the engine live
  backline events tail --from beginning -o csv > events.csv
  backline events tail --from 2024-05-01T09:00:00Z --type supervisor_mode_changed
  backline events tail --stream agent/alice --from 120 -o table
  backline events tail --kafka 127.0.0.1:9092 --topic backline.voicecall.v1 -o jsonl)");
    t->callback([this] {
      tail.data_dir = common.data;
      tail.output = common.fmt();
      if (tail.follow) install_stop_handlers();
      if (!kafka_tail.bootstrap.empty()) {
        kafka_tail.follow = tail.follow;
        kafka_tail.output = common.fmt();
        code = run_events_tail_kafka(kafka_tail);
        return;
      }
      code = run_events_tail(tail);
    });
  }

  void add_calls() {
    auto* calls = app.add_subcommand("calls", "VoiceCall records");
    calls->require_subcommand(1);
    auto* g = calls->add_subcommand("get",
                                    "one voice call: from the read model, or --at TIME "
                                    "folded from the log with who heard whom");
    common.add_to(g);
    g->add_option("ID", get.voice_call_id, "voice call id (any segment, consult or session)")
        ->required();
    g->add_option("--at", get.at, "as it stood at TIME (RFC 3339, Unix µs or 'now')");
    g->footer(R"(Examples:
  backline calls get 0190a4e2-...                     # the VoiceCall record (read model)
  backline calls get 0190a4e2-... --at 2024-05-01T09:03:12.5Z -o table
  backline calls get 0190a4e2-... --at now -o json    # the live state and hear matrix)");
    g->callback([this] {
      get.data_dir = common.data;
      get.output = common.fmt();
      code = get.at.empty() ? run_calls_get_view({common.data, get.output}, get.voice_call_id)
                            : run_calls_get_at(get);
    });
    auto* l = calls->add_subcommand("list", "VoiceCall records by time, type, agent, queue");
    common.add_to(l);
    l->add_option("--type", list.type, "inbound|outbound|internal")
        ->check(CLI::IsMember({"inbound", "outbound", "internal"}));
    l->add_option("--agent", list.agent, "records this agent owned or took part in");
    l->add_option("--queue", list.queue, "records of this queue");
    l->add_option("--parent", list.parent, "records whose parent is this voice call");
    l->add_option("--from", list.from, "started at or after TIME");
    l->add_option("--to", list.to, "started before TIME");
    l->add_option("--limit", list.limit, "at most this many records")->capture_default_str();
    l->footer(R"(Examples:
  backline calls list --agent alice --from 2024-05-01T00:00:00Z -o table
  backline calls list --type internal --parent 0190a4e2-...   # consults and supervisions)");
    l->callback([this] {
      list.data_dir = common.data;
      list.output = common.fmt();
      code = run_calls_list(list);
    });
  }

  void add_chain() {
    auto* c = app.add_subcommand("chain", "every VoiceCall record of a conversation, in order");
    common.add_to(c);
    c->add_option("ID", chain_id, "any voice call id of the conversation")->required();
    c->footer(R"(Examples:
  backline chain 0190a4e2-... -o table                # customer segment, consult, transfer...)");
    c->callback([this] { code = run_chain({common.data, common.fmt()}, chain_id); });
  }

  void add_report() {
    auto* r = app.add_subcommand("report", "a report over an interval, optionally as SVG");
    common.add_to(r);
    r->add_option("NAME", rep.name, "report name")->required();
    r->add_option("--from", rep.from, "interval start (default: 24 h before --to)");
    r->add_option("--to", rep.to, "interval end (default: now)");
    r->add_option("--by", rep.by, "group by: none|day|hour (default none)");
    r->add_option("--svg", rep.svg_file, "also draw the report as an SVG chart in FILE");
    const auto names = report_names();
    r->footer(fmt::format(
        R"(Reports: {}
Examples:
  backline report customer_volume --by hour --from 2024-05-01T00:00:00Z --to 2024-05-02T00:00:00Z
  backline report handle_time_by_agent --svg handle.svg -o table)",
        names.empty() ? "(none in this build)" : fmt::format("{}", fmt::join(names, ", "))));
    r->callback([this] {
      rep.data_dir = common.data;
      rep.output = common.fmt();
      code = run_report(rep);
    });
  }

  void add_replay() {
    auto* r = app.add_subcommand("replay",
                                 "catch the read models up with the log, or --verify "
                                 "them against a rebuild from position 0");
    common.add_to(r);
    r->add_flag("--verify", replay.verify,
                "rebuild every read model in a scratch store and compare hashes (exit 1 on a "
                "difference)");
    r->footer(R"(Examples:
  backline replay --verify                            # audit: read models == f(log)
  backline replay --data /srv/backline                # catch up (backlined must be stopped))");
    r->callback([this] {
      replay.data_dir = common.data;
      replay.output = common.fmt();
      code = run_replay(replay);
    });
  }

  void add_kafka_dev() {
    auto* k = app.add_subcommand("kafka-dev",
                                 "run a development Kafka broker (librdkafka's mock cluster, in "
                                 "memory) until Ctrl-C; for development and tests only");
    k->add_option("--brokers", kafka_dev.brokers, "number of brokers")
        ->check(CLI::Range(1, 32))
        ->capture_default_str();
    k->add_option("--port-base", kafka_dev.port_base,
                  "broker i listens on PORT_BASE + i - 1 (default: any free ports)");
    k->add_option("--partitions", kafka_dev.partitions, "partitions per topic")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    k->add_flag("!--no-json-topics", kafka_dev.json_topics,
                "do not create the <topic>.json mirror topics");
    k->footer(R"(Prints the bootstrap string as the first line on stdout; the rest goes to stderr.
Examples:
  backline kafka-dev                                  # 3 brokers on free ports
  backline kafka-dev --brokers 1 --port-base 9092     # bootstrap 127.0.0.1:9092
  backline kafka-dev --port-base 19092 --partitions 12 &
  backlined --demo --kafka 127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094
  kcat -C -J -b 127.0.0.1:19092 -t backline.voicecall.v1 -e

Real deployments run Apache Kafka: see docs/kafka.md and deploy/docker-compose.yml.)");
    k->callback([this] { code = run_kafka_dev(kafka_dev); });
  }

  void add_token() {
    auto* t = app.add_subcommand("token",
                                 "mint a bearer token with the DEVELOPMENT key of a data "
                                 "directory (created if missing); for development only");
    t->add_option("--data", token.data_dir, "data directory of backlined (its auth/dev-es256.pem)")
        ->capture_default_str();
    t->add_option("--sub", token.subject, "the user the token speaks for (claim sub)")->required();
    t->add_option("--role", token.roles, "a role; repeat for more (claim roles)")
        ->required()
        ->check(CLI::IsMember({"telephony", "agent", "supervisor", "admin"}));
    t->add_option("--tenant", token.tenant, "the call center (claim iss)")->capture_default_str();
    t->add_option("--aud", token.audience, "the audience (claim aud)")->capture_default_str();
    t->add_option("--ttl", token.ttl_s, "lifetime in seconds (at most 86400)")
        ->capture_default_str();
    t->footer(
        R"x(Prints only the token on stdout; the development-key warning and a hint go to stderr.
The key is <data>/auth/dev-es256.pem, the one backlined checks tokens with when no production
auth is configured. Anyone who can read it can mint any token: never use it in production.
Examples:
  backline token --data var --sub alice --role agent
  backline token --sub peggy --role supervisor --role agent --ttl 600
  backline token --sub cti-connector --role telephony --tenant acme_support --aud backline
  curl -H "Authorization: Bearer $(backline token --sub alice --role agent)" \
       http://127.0.0.1:8080/v1/agents)x");
    t->callback([this] { code = run_token(token); });
  }

  void add_project() {
    auto* p = app.add_subcommand("project",
                                 "build the read models from Kafka (consumer group; offsets "
                                 "stored with the data) until Ctrl-C or --until-idle");
    common.add_to(p, /*with_output=*/false);
    p->add_option("--kafka", project.bootstrap, "Kafka bootstrap servers")->required();
    p->add_option("--group", project.group, "consumer group id")->required();
    p->add_option("--store", project.store_dir,
                  "projection store directory (default: <data>/projections)");
    p->add_option("--topics", project.topics,
                  "topics to consume (default: Backline's four topics)");
    p->add_option("--until-idle", project.until_idle_s,
                  "exit once no record arrived for SECONDS (tests, one-off rebuilds)")
        ->check(CLI::PositiveNumber);
    p->footer(R"(The models are the same bytes as a projection of the log (backline replay); duplicates
from the at-least-once relay are skipped by event id. Offsets per topic-partition are written
in the same RocksDB batch as the data, and a restart seeks to them.
Examples:
  backline project --kafka 127.0.0.1:9092 --group analytics --store /srv/views
  backline project --kafka 127.0.0.1:9092 --group ci --store scratch --until-idle 2)");
    p->callback([this] {
      project.data_dir = common.data;
      project.progress = isatty(STDERR_FILENO) != 0;
      install_stop_handlers();
      code = run_project_kafka(project);
    });
  }

  cli() {
    app.require_subcommand(1);
    app.footer(std::string(R"(Examples:
  backline events tail -f --data /srv/backline        # follow a live engine's events
  backline calls get 0190a4e2-... --at 2024-05-01T09:03:12Z -o table
  backline calls list --agent alice -o csv
  backline chain 0190a4e2-...
  backline report customer_volume --by day --svg volume.svg
  backline replay --verify
  backline kafka-dev --port-base 19092                # a dev Kafka broker for backlined --kafka
  backline token --sub alice --role agent             # a development bearer token for curl

Every subcommand takes --data DIR (default ./var, where backlined keeps its log) and opens it
read-only, so it can run beside a live backlined (`token` creates the development key if it is
missing). `backline SUBCOMMAND --help` has more.)") +
               exit_codes_help);
    add_events();
    add_calls();
    add_chain();
    add_report();
    add_replay();
    add_kafka_dev();
    add_token();
    add_project();
  }
};

}  // namespace

int main(int argc, char** argv) {
  cli c;
  try {
    c.app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help (exit 0) or the error with its own code; ours is 2 for every misuse.
    const int code = c.app.exit(e);
    if (code != 0) fmt::print(stderr, "Run with --help for the options and examples.\n");
    return code == 0 ? exit_ok : exit_usage;
  }
  return c.code;
}

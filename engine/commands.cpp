#include "engine/commands.hpp"

#include <CLI/CLI.hpp>

#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <glob.h>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/logger.hpp"
#include "engine/admin.hpp"
#include "engine/alerts.hpp"
#include "engine/bench.hpp"
#include "engine/tune_report.hpp"
#include "engine/journal_check.hpp"
#include "engine/key_permissions.hpp"
#include "engine/live_gateway.hpp"
#include "engine/pipeline.hpp"
#include "engine/report.hpp"
#include "engine/run_config.hpp"
#include "engine/daily.hpp"
#include "engine/rollout.hpp"
#include "engine/run_output.hpp"
#include "engine/state.hpp"
#include "engine/status.hpp"
#include "feed/book_check.hpp"
#include "feed/exchange_info.hpp"
#include "feed/https_client.hpp"
#include "feed/capture_reader.hpp"
#include "feed/transport.hpp"
#include "feed/uring.hpp"
#include "feed/recorder.hpp"
#include "oms/venues/venue_kit.hpp"
#include "strategy/csv.hpp"
#include "strategy/indicator_table.hpp"
#include "tuning/host_check.hpp"

namespace enigma::engine {

namespace {

// Signal handlers only set flags (and poke an eventfd, both async-signal-safe); the work happens on
// threads at safe points: SIGINT/SIGTERM stop intake at the next frame (the pipeline's stop flag; the
// first signal names the interruption), SIGUSR1 asks the replay for a status line at the next frame
// boundary, SIGHUP asks the session's watcher thread to reopen the log file (logrotate's postrotate).
std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_status_request{false};
std::atomic<bool> g_reopen_log{false};
std::atomic<int> g_wake_fd{-1};  // eventfd the watcher blocks on; created once, never closed

extern "C" void on_signal(int sig) {
  const int saved_errno = errno;
  if (sig == SIGINT || sig == SIGTERM) {
    int none = 0;
    g_stop_signal.compare_exchange_strong(none, sig, std::memory_order_relaxed);
    g_stop.store(true, std::memory_order_relaxed);
  } else if (sig == SIGUSR1) {
    g_status_request.store(true, std::memory_order_relaxed);
  } else if (sig == SIGHUP) {
    g_reopen_log.store(true, std::memory_order_relaxed);
  }
  if (const int fd = g_wake_fd.load(std::memory_order_relaxed); fd >= 0) {
    const std::uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);
  }
  errno = saved_errno;
}

// Exit status of a run a signal ended: the shell's 128 + signal number (130 SIGINT, 143 SIGTERM).
int exit_code_for_signal(int sig) noexcept { return sig == 0 ? 0 : 128 + sig; }
const char* signal_name(int sig) noexcept { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal"; }

// Does what the flag-only handlers cannot: reopens the log on SIGHUP, and answers SIGUSR1 where the run's
// loop does not (paper, live). Sleeps on the eventfd; no polling.
class SignalWatcher {
 public:
  SignalWatcher(Logger& logger, bool pipeline_reports_status) : logger_(logger), pipeline_reports_status_(pipeline_reports_status) {
    int fd = g_wake_fd.load();
    if (fd < 0) {
      fd = ::eventfd(0, EFD_CLOEXEC);
      if (fd < 0) throw Error(std::string("eventfd for the signal watcher: ") + std::strerror(errno));
      g_wake_fd.store(fd);
    }
    fd_ = fd;
    thread_ = std::thread([this] { run(); });
  }
  ~SignalWatcher() {
    closing_.store(true);
    const std::uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void run() {
    while (!closing_.load()) {
      std::uint64_t n;
      if (::read(fd_, &n, sizeof n) < 0 && errno != EINTR) return;
      if (g_reopen_log.exchange(false)) {
        logger_.reopen();
        ENIGMA_LOG_INFO("engine", "SIGHUP: log file reopened");
        std::fprintf(stderr, "enigma: SIGHUP: reopened %s\n", logger_.options().path.c_str());
      }
      if (!pipeline_reports_status_ && g_status_request.exchange(false)) {
        ENIGMA_LOG_INFO("engine", "SIGUSR1: status lines are written by replay runs; use the admin endpoint here");
        std::fprintf(stderr, "enigma: SIGUSR1: status lines are written by replay runs; use the admin endpoint (GET /status)\n");
      }
    }
  }

  Logger& logger_;
  bool pipeline_reports_status_;
  int fd_;
  std::atomic<bool> closing_{false};
  std::thread thread_;
};

void install_run_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) ::sigaction(sig, &sa, nullptr);
}

struct RunArgs {
  std::string config = "config/replay.toml";
  std::vector<std::string> data;
  std::string speed;
  std::string topology;
  std::string venue;
  std::string runs_dir;
  bool quiet = false;
  bool strict = false;
};
RunArgs g_replay;
RunArgs g_backtest{.config = "config/backtest.toml"};
RunArgs g_bench;
int g_bench_recorded_seconds = 20;
RunArgs g_tune;
bool g_tune_quick = false;
RunArgs g_paper;
struct LiveArgs {
  std::string config;
  std::string runs_dir;
  bool confirm = false;
} g_live;

struct CheckHostArgs {
  std::string cores;
} g_check_host;

struct ReportArgs {
  std::string run_dir;
} g_report;

struct BookCheckArgs {
  std::string venue;
  std::vector<std::string> files;
  std::vector<std::string> exchange_info;
  bool verbose = false;
  bool strict = false;
} g_book_check;

struct IndicatorArgs {
  std::string csv;
  std::string out;
} g_indicators;

struct ConvertArgs {
  std::string capture;
  std::string out;
} g_convert;

// CPUs this process may be pinned to (its affinity mask), as a "0-1,4" style list for messages.
std::vector<int> allowed_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  std::vector<int> out;
  if (::sched_getaffinity(0, sizeof mask, &mask) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mask)) out.push_back(c);
  return out;
}

std::string cpu_list_text(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]) + (j > i ? "-" + std::to_string(cpus[j]) : "");
    i = j + 1;
  }
  return out;
}

// What the TOML cannot check alone, before any run directory exists: [engine] cores against this process's
// CPUs and the topology the run uses (fused pins its one thread to cores[0]; pipelined its feed, strategy
// and OMS threads to cores[0..2]). A core that would pin nothing is refused rather than ignored.
void check_engine_for_run(const RunConfig& rc, Topology topology) {
  const std::vector<int>& cores = rc.engine.cores;
  const std::size_t most = topology == Topology::fused ? 1 : 3;
  if (cores.size() > most) {
    throw Error(rc.source + ": key 'engine.cores': the " + std::string(to_string(topology)) + " topology pins " +
                std::to_string(most) + " thread(s), " + std::to_string(cores.size()) + " cores given");
  }
  const std::vector<int> allowed = allowed_cpus();
  for (const int c : cores) {
    if (std::find(allowed.begin(), allowed.end(), c) == allowed.end())
      throw Error(rc.source + ": key 'engine.cores': CPU " + std::to_string(c) + " is not available to this process (allowed: " +
                  cpu_list_text(allowed) + ")");
  }
}

// [engine] mlockall = true: every page now and later stays in RAM, so no order waits on a page-in. Refused
// (exit 3) where the lock cannot hold: a finite RLIMIT_MEMLOCK without privilege would make later mappings
// (the journal's next segment, rings) fail mid-run instead of at start-up.
void lock_all_memory(const std::string& source) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_MEMLOCK, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && ::geteuid() != 0) {
    throw Error(source + ": key 'engine.mlockall': RLIMIT_MEMLOCK is " + std::to_string(lim.rlim_cur / 1024) +
                " KiB for this process; mlockall needs it unlimited (`ulimit -l unlimited`, LimitMEMLOCK=infinity in the "
                "systemd unit) or CAP_IPC_LOCK; or set mlockall = false");
  }
  if (::mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    const int err = errno;
    throw Error(source + ": key 'engine.mlockall': mlockall(MCL_CURRENT|MCL_FUTURE) failed: " + std::strerror(err));
  }
  ENIGMA_LOG_INFO("engine", "mlockall applied: every page of the engine is locked in RAM");
}

// paper and live run the fused engine on the WebSocket thread; a config asking for pipelined is refused
// rather than silently run fused.
void check_paper_topology(const RunConfig& rc, std::string_view mode) {
  if (rc.engine.topology != Topology::fused)
    throw Error(rc.source + ": key 'engine.topology': " + std::string(mode) +
                " runs the fused topology (market data, strategy and orders on the WebSocket thread); set \"fused\"");
}
// --log-format (replay, paper, live): overrides [log] format / [engine] log_json when given.
std::string g_log_format;

// Applies command-line overrides on top of the TOML.
RunConfig load_run_config(const RunArgs& a) {
  RunConfig rc = RunConfig::load(a.config);
  if (!a.data.empty()) rc.data = a.data;
  if (!a.speed.empty()) rc.speed = a.speed == "recorded" ? Speed::recorded : Speed::max;
  if (!a.topology.empty()) rc.engine.topology = a.topology == "pipelined" ? Topology::pipelined : Topology::fused;
  if (!a.venue.empty()) rc.venue = *venue_from_string(a.venue);  // checked by the option's validator
  if (!a.runs_dir.empty()) rc.runs_dir = a.runs_dir;
  if (!rc.backtest.empty()) throw Error(a.config + ": [backtest] is read by `enigma backtest` (replay takes [replay] data)");
  if (rc.data.empty()) throw Error(a.config + ": [replay] data is empty and no --data was given");
  return rc;
}

// A [[backtest.input]] path list: files as given, directories as their files in name order (candle and
// funding lists: only *.csv / *.csv.gz), globs as their matches in name order. Nothing matching is an error
// naming the key.
std::vector<std::string> expand_inputs(const std::string& source, const std::string& key, const std::vector<std::string>& in, bool csv_only) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  auto wanted = [&](const std::string& name) {
    return !csv_only || name.ends_with(".csv") || name.ends_with(".csv.gz");
  };
  for (const std::string& p : in) {
    const std::size_t before = out.size();
    std::error_code ec;
    if (p.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      if (::glob(p.c_str(), 0, nullptr, &g) == 0)
        for (std::size_t i = 0; i < g.gl_pathc; ++i)
          if (fs::is_regular_file(g.gl_pathv[i], ec)) out.emplace_back(g.gl_pathv[i]);
      ::globfree(&g);
    } else if (fs::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(p, ec))
        if (e.is_regular_file(ec) && wanted(e.path().filename().string())) files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else if (fs::is_regular_file(p, ec)) {
      out.push_back(p);
    }
    if (out.size() == before) throw Error(source + ": key '" + key + "': '" + p + "' names no readable file");
  }
  return out;
}

// The backtest's input: every [[backtest.input]]'s files with their read options (candle and funding CSVs
// become frames of their instrument) and venues, merged by time in the replay's stream.
void backtest_inputs(const RunConfig& rc, std::vector<std::string>& files, std::vector<feed::CaptureReadOptions>& opts,
                     std::vector<Venue>& venues) {
  using Synthetic = feed::CaptureReadOptions::Synthetic;
  for (std::size_t i = 0; i < rc.backtest.size(); ++i) {
    const BacktestInput& b = rc.backtest[i];
    const std::string key = "backtest.input[" + std::to_string(i) + "].";
    if (!same_feed_family(rc.venue, b.venue))
      throw Error(rc.source + ": key '" + key + "venue': " + std::string(to_string(b.venue)) + " captures cannot be read in a " +
                  std::string(to_string(rc.venue)) + " run ([replay] venue): one run reads one venue family");
    const auto add = [&](const std::string& f, feed::CaptureReadOptions o) {
      files.push_back(f);
      opts.push_back(std::move(o));
      venues.push_back(b.venue);
    };
    if (b.instrument) {
      const InstrumentSpec& spec = rc.instruments[*b.instrument].spec;
      if ((!b.candles.empty() || !b.funding.empty()) && (rc.venue != Venue::binance_usdm || spec.venue != Venue::binance_usdm))
        throw Error(rc.source + ": key '" + key + "candles': candle and funding CSVs are replayed as Binance USD-M frames: set [replay] venue "
                    "and the instrument's venue to \"binance-usdm\"");
      for (const std::string& f : expand_inputs(rc.source, key + "candles", b.candles, true))
        add(f, feed::CaptureReadOptions{.synthetic = Synthetic::candles,
                                        .symbol = std::string(spec.symbol.view()),
                                        .interval_ms = b.interval_s * 1000,
                                        .tick = spec.tick.to_string()});
      for (const std::string& f : expand_inputs(rc.source, key + "funding", b.funding, true))
        add(f, feed::CaptureReadOptions{.synthetic = Synthetic::funding, .symbol = std::string(spec.symbol.view())});
    }
    for (const std::string& f : expand_inputs(rc.source, key + "captures", b.captures, false)) add(f, feed::CaptureReadOptions{});
  }
}

// What every trading run (replay, paper) sets up around the pipeline: its run directory and log, the
// instruments, strategies and trading core, the optional admin endpoint, and signal handling.
constexpr std::size_t kReplayJournalRecords = 4096;

struct RunSession {
  const RunConfig& rc;
  std::string dir;
  std::unique_ptr<Logger> logger;
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<StateDirLock> state;  // paper/live; declared before `core`: released after its journal closes
  std::unique_ptr<DailyReporter> daily;  // declared before `core`, which hands it each closed day
  std::unique_ptr<AlertDispatcher> alerts;  // [alerts]; declared before `core`, which holds its monitor
  std::unique_ptr<TradingCore> core;
  SpscRing<AdminCommand> admin_ring{64};
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<StatusPublisher> status;
  PipelineOptions po;
  std::optional<RolloutState> rollout;  // paper/live with a [rollout] table
  Notional start_equity{};              // what this run's P&L and drawdown are measured from

  std::unique_ptr<SignalWatcher> watcher;
  const char* mode_;

  // `pipeline_reports_status`: the run's loop answers SIGUSR1 itself (replay), else the watcher does.
  RunSession(const RunConfig& config, const std::string& prefix, const char* mode, bool pipeline_reports_status = false)
      : rc(config), dir(make_run_dir(config.runs_dir, prefix)), mode_(mode) {
    LoggerOptions lo;
    lo.path = dir + "/logs/enigma.log";
    lo.level = rc.engine.log_level;
    lo.rotate_bytes = rc.engine.log_rotate_bytes;
    lo.keep_files = rc.engine.log_keep_files;
    lo.json = g_log_format.empty() ? rc.engine.log_json : g_log_format == "json";
    logger = std::make_unique<Logger>(lo);
    Logger::set_global(logger.get());
    try {
      set_up(mode, pipeline_reports_status);
    } catch (const std::exception& e) {
      log_failure(e);
      throw;
    }
    // Only a run that set up moves the `latest` link.
    point_latest_at(rc.runs_dir, dir);
  }

  // A runtime error of the run goes to its log as well as to stderr (main prints it, exit 3), and into a
  // summary.json that says the run failed and why, so its directory explains itself (a summary the run
  // already wrote is kept).
  void log_failure(const std::exception& e) {
    logger->write_text(LogLevel::error, "engine", "run_failed error=" + log_quote(e.what()));
    write_failed_summary(dir, mode_, e.what());
  }

  // Runs the command's body; an error escaping it is logged to the run's log, then rethrown.
  template <class Body>
  int guarded(Body&& body) {
    try {
      return body();
    } catch (const std::exception& e) {
      log_failure(e);
      throw;
    }
  }

  void set_up(const char* mode, bool pipeline_reports_status) {
    install_run_signal_handlers();
    watcher = std::make_unique<SignalWatcher>(*logger, pipeline_reports_status);
    rc.fill_registry(registry);
    for (const RunConfig::ExchangeInfoFile& f : rc.exchange_info)
      ENIGMA_LOG_INFO("engine", "exchange_info venue={} instruments={} options_skipped={} unrepresentable={}",
                      LogLiteral{to_string(f.venue)}, f.instruments, f.skipped_options, f.unrepresentable.size());
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies(), rc.selector);
    TradingCoreConfig trading = rc.trading;
    // The OMS journals every order before it leaves: a replay into its run directory; paper and live into
    // their account's locked state directory, which the next start-up resumes from.
    const bool keeps_state = std::string_view(mode) != "replay" && std::string_view(mode) != "backtest";
    if (keeps_state) {
      state = std::make_unique<StateDirLock>(rc.state_dir.empty() ? default_state_dir(mode, rc.venue) : rc.state_dir);
      trading.journal_path = state->journal_path();
      const auto wall_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      trading.client_id_epoch = static_cast<std::uint64_t>(wall_s.count());  // ids never repeat across restarts
    } else {
      trading.journal_path = dir + "/journal.bin";
      // A replay's journal is a record of the run, not state to resume: segments of 4096 records (1 MiB,
      // prefaulted) instead of 65,536 (16 MiB resident from the start); a longer run rolls over to the next
      // segment file. A config that sets [oms] journal_segment_records to anything but the default keeps it.
      if (trading.journal.max_records == TradingCoreConfig{}.journal.max_records) trading.journal.max_records = kReplayJournalRecords;
    }
    if (rc.rollout.enabled) {
      RolloutStage stage = rc.rollout.initial;
      if (keeps_state) {
        const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
        rollout = load_rollout(state->dir(), rc.rollout, wall.count());
        stage = rollout->stage;
        if (std::string_view(mode) == "live" && stage == RolloutStage::paper) {
          throw Error("rollout: " + state->dir() + " is at stage paper: trade it with `enigma paper` until `enigma rollout promote " +
                      state->dir() + "` moves it to 10%");
        }
      }
      trading.size_scale = rollout_scale(stage);
      ENIGMA_LOG_INFO("rollout", "rollout_stage stage={} size_scale={} state={}", LogLiteral{to_string(stage)}, trading.size_scale.to_double(),
                      keeps_state ? state->dir() : std::string("(replay: no state)"));
      std::fprintf(stderr, "enigma %s: rollout stage %s: orders at %s of their size\n", mode, std::string(to_string(stage)).c_str(),
                   stage == RolloutStage::paper ? "100%" : std::string(to_string(stage)).c_str());
    }
    core = std::make_unique<TradingCore>(registry, trading);
    core->set_run_stop(&g_stop);  // disk full: the engine ends the run itself (exit 3)
    daily = std::make_unique<DailyReporter>(dir);
    core->set_daily_reporter(daily.get());
    start_equity = trading.sim.initial_balance;
    if (rc.alerts.enabled) {
      AlertSettings as = rc.alerts;
      as.mode = mode;
      alerts = std::make_unique<AlertDispatcher>(std::move(as));  // secrets resolved here: exit 3 if missing
      core->set_alerts(&alerts->monitor());
      alerts->start();
      ENIGMA_LOG_INFO("alert", "alerts on telegram={} slack={} webhook={}", alerts->channel_enabled(AlertChannelKind::telegram),
                      alerts->channel_enabled(AlertChannelKind::slack), alerts->channel_enabled(AlertChannelKind::webhook));
    }
    if (keeps_state) {
      const auto wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
      write_resume_report(*core, registry, dir, state->dir(), mode, std::string_view(mode) == "paper", wall_ns.count());
    }
    if (rc.admin.enabled) {
      const char* tok = std::getenv(rc.admin.token_env.c_str());
      const config::Secret token(tok ? tok : "");
      if (rc.admin.allow_remote && token.empty())
        throw Error(rc.source + ": [admin] allow_remote = true needs a token: set the environment variable " + rc.admin.token_env);
      admin = std::make_unique<AdminServer>(rc.admin.address, rc.admin.port, std::string(token.reveal()), admin_ring, rc.admin.allow_remote);
      admin->set_log_path(dir + "/logs/enigma.log");  // the dashboard's last log lines
      admin->start();
      ENIGMA_LOG_INFO("admin", "listening on {}:{}", rc.admin.address, static_cast<int>(admin->port()));
      // Loopback without a token: GETs only. Said loudly here and in every GET /status ("admin_commands").
      if (token.empty()) {
        ENIGMA_LOG_WARN("admin", "no token in {}: POST commands (kill, trading start/stop, emergency) are refused with 403",
                        rc.admin.token_env);
        std::fprintf(stderr, "enigma: WARNING: admin endpoint has no token (%s is unset): POST /kill, /emergency and the "
                             "other commands are refused; GET works\n", rc.admin.token_env.c_str());
      }
      status = std::make_unique<StatusPublisher>(*admin, registry, mode, rc.admin.publish_ms * 1'000'000);
      if (rc.rollout.enabled) status->set_rollout_stage(to_string(rollout ? rollout->stage : rc.rollout.initial).data());
      status->set_timeframes(rc.strategy_config<strategy::ConfluenceConfig>().candles, rc.strategy_config<strategy::MeanReversionConfig>().candles);
      po.status = status.get();
    }
    if (alerts && rc.alerts.control.enabled) {
      // Telegram commands go through the admin endpoint: the same authority (its bearer token) and rules.
      if (!admin) throw Error(rc.source + ": [alerts.telegram] control = true needs [admin] enabled = true");
      const char* tok = std::getenv(rc.admin.token_env.c_str());
      alerts->start_telegram_control(admin->port(), tok ? tok : "");
    }
    // The TSC calibration (begun by the logger) ran beside the set-up above; what is left of it is waited for here.
    const TscClock& clk = TscClock::instance();
    if (!clk.warning().empty()) ENIGMA_LOG_WARN("engine", "{}", clk.warning());
    const SupervisorConfig& sv = rc.trading.supervisor;
    ENIGMA_LOG_INFO("supervisor", "supervisor_config on_kill={} on_stop={} max_daily_drawdown={} max_total_drawdown={} max_trades_per_day={} feed_down_s={}",
                    LogLiteral{to_string(sv.on_kill)}, LogLiteral{to_string(sv.on_stop)}, rc.trading.risk.max_daily_drawdown.to_double(),
                    sv.max_total_drawdown.to_double(), sv.max_trades_per_day, sv.feed_down_ns / 1'000'000'000);
    po.venue = rc.venue;
    po.traded = rc.strategy.common().instrument;
    po.topology = rc.engine.topology;
    po.speed = rc.speed;
    po.idle = rc.engine.idle;
    po.cores = rc.engine.cores;
    po.admin = &admin_ring;
    po.heartbeat_ns = rc.log_heartbeat_ns;
    po.warm_interval_ns = rc.engine.warm_interval_us * 1000;
    po.stop = &g_stop;
    if (pipeline_reports_status) po.status_request = &g_status_request;
    if (rc.engine.mlockall) lock_all_memory(rc.source);
    logger->write_text(LogLevel::info, "engine", "engine_layout mode=" + std::string(mode) + " " + engine_layout(rc.engine, to_string(po.topology)));
  }

  // Writes the run's files and report, prints the summary and returns the exit status: 0, or 128 + the
  // signal that interrupted the run (130 SIGINT, 143 SIGTERM).
  int finish(PipelineResult& r, const char* mode) {
    const int sig = g_stop_signal.load();
    if (core->stopped_for_disk_full()) {
      r.fatal_error = core->order_manager().journal().rollover_error();
      if (r.fatal_error.empty()) r.fatal_error = "journal: no room for its next segment (disk full)";
      if (Logger* l = Logger::global()) l->write_text(LogLevel::error, "engine", "run_stopped reason=disk_full error=" + log_quote(r.fatal_error));
    }
    if (sig != 0) {
      r.interrupted = signal_name(sig);
      ENIGMA_LOG_WARN("engine", "run interrupted by {} after {} of {} frames", signal_name(sig), r.frames, r.frames_in_input);
    }
    ENIGMA_LOG_INFO("engine", "run done frames={} orders={} fills={} emergency_stops={} unprotected_positions={}", r.frames,
                    r.orders.orders, r.orders.fills, r.orders.emergency_stops, core->unprotected_positions());
    if (status) {  // the last snapshot equals the summary
      FeedView fv;
      fv.frames = r.frames;
      fv.events = r.events;
      fv.book_updates = r.book_updates;
      fv.gaps = r.gaps;
      fv.resyncs = r.resyncs;
      fv.reconnects = r.reconnects;
      status->maybe_publish(*core, fv, false, true);
    }
    if (alerts) alerts->stop();  // delivers what is pending (up to [alerts] flush_ms) so the counts are final
    RunSummaryInput in{&rc, &registry, &r, core.get(), mode, std::string(to_string(po.topology)), alerts.get(),
                       strategies.get()};
    log_data_warnings(in);
    core->close_day();  // the day still open: its report is written too, marked partial
    daily->flush();
    if (rollout && state) record_rollout_run();
    if (!r.fatal_error.empty()) {
      // Exit 3 whether or not the run's files fit on the full disk: say which could not be written.
      std::fprintf(stderr, "enigma %s: stopped: %s\n", mode, r.fatal_error.c_str());
      try {
        write_run_files(dir, in);
        write_report(dir);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "enigma %s: the summary could not be written: %s\n", mode, e.what());
        log_failure(e);
      }
      std::fputs(format_summary(in, dir).c_str(), stdout);
      return 3;
    }
    write_run_files(dir, in);
    write_file_atomic(dir + "/host-check.txt", tuning::format_checks(tuning::check_host({})));
    write_report(dir);
    std::fputs(format_summary(in, dir).c_str(), stdout);
    return exit_code_for_signal(sig);
  }

  // Adds this run's evidence to the rollout stage (rollout.json in the state directory).
  void record_rollout_run() {
    RolloutState& ro = *rollout;
    const auto& c = core->counters();
    ++ro.runs;
    ro.trades += c.round_trips;
    ro.wins += c.round_trips - c.losing_trips;
    ro.emergency_stops += c.emergency_stops;
    ro.pnl += core->last_equity() - start_equity;
    if (start_equity.raw() > 0) {
      const auto dd = Rate::from_double(core->max_drawdown().to_double() / start_equity.to_double());
      if (dd.ok() && dd.value > ro.max_drawdown) ro.max_drawdown = dd.value;
    }
    save_rollout(state->dir(), ro);
    ENIGMA_LOG_INFO("rollout", "rollout_run stage={} runs={} round_trips={} wins={} pnl={} max_drawdown={} emergency_stops={}", LogLiteral{to_string(ro.stage)},
                    ro.runs, ro.trades, ro.wins, ro.pnl.to_double(), ro.max_drawdown.to_double(), ro.emergency_stops);
  }

  ~RunSession() {
    watcher.reset();
    if (admin) admin->stop();
    Logger::set_global(nullptr);
    if (logger) logger->shutdown();
  }
};

int cmd_replay() {
  const RunConfig rc = load_run_config(g_replay);
  check_engine_for_run(rc, rc.engine.topology);
  RunSession s(rc, "", "replay", /*pipeline_reports_status=*/true);
  s.po.progress = !g_replay.quiet;
  s.po.strict = g_replay.strict;
  ENIGMA_LOG_INFO("engine", "replay start venue={} files={} topology={}", to_string(rc.venue), rc.data.size(), to_string(rc.engine.topology));
  std::fprintf(stderr, "enigma replay: %zu file(s), venue %s, %s topology -> %s\n", rc.data.size(), std::string(to_string(rc.venue)).c_str(),
               std::string(to_string(rc.engine.topology)).c_str(), s.dir.c_str());
  return s.guarded([&] {
    PipelineResult r = run_pipeline(rc.data, s.registry, *s.strategies, *s.core, s.po);
    return s.finish(r, "replay");
  });
}

// Backtest: replay's run over [[backtest.input]]'s files (candle CSVs, captures, funding CSVs of several
// instruments), merged by time and streamed through the same pipeline and simulated exchange.
int cmd_backtest() {
  RunConfig rc = RunConfig::load(g_backtest.config);
  if (!g_backtest.runs_dir.empty()) rc.runs_dir = g_backtest.runs_dir;
  if (rc.backtest.empty()) throw Error(g_backtest.config + ": no [[backtest.input]]: name each instrument's candle CSVs or captures");
  if (!g_backtest.data.empty()) {  // --data: the first input's files (its candles when it has candles)
    BacktestInput& b = rc.backtest.front();
    (b.candles.empty() ? b.captures : b.candles) = g_backtest.data;
  }
  std::vector<feed::CaptureReadOptions> opts;
  std::vector<std::string> files;
  std::vector<Venue> venues;
  backtest_inputs(rc, files, opts, venues);
  rc.data = files;
  check_engine_for_run(rc, rc.engine.topology);
  RunSession s(rc, "", "backtest", /*pipeline_reports_status=*/true);
  s.po.progress = !g_backtest.quiet;
  s.po.file_options = std::move(opts);
  s.po.file_venues = std::move(venues);
  ENIGMA_LOG_INFO("engine", "backtest start venue={} files={} inputs={} topology={}", to_string(rc.venue), files.size(),
                  rc.backtest.size(), to_string(rc.engine.topology));
  std::fprintf(stderr, "enigma backtest: %zu file(s), %zu input(s), %s topology -> %s\n", files.size(), rc.backtest.size(),
               std::string(to_string(rc.engine.topology)).c_str(), s.dir.c_str());
  return s.guarded([&] {
    PipelineResult r = run_pipeline(files, s.registry, *s.strategies, *s.core, s.po);
    return s.finish(r, "backtest");
  });
}

// io_uring needs a kernel (and seccomp policy) that lets the process set up a ring: refused at start-up
// with the kernel's reason rather than found out by every connection attempt.
void check_feed_transport(const RunConfig& rc) {
  if (rc.feed_transport != feed::Transport::io_uring) return;
  if (std::string why = feed::uring_unavailable_reason(); !why.empty())
    throw Error(rc.source + ": [feed] transport = \"io_uring\": " + why + "; use \"asio\" or \"busy_poll\"");
}

// Which socket stack carries this run's connections (kernel, or a bypass stack preloaded by
// scripts/run-bypass.sh) and the transports chosen: one start-up line for paper and live.
void log_network_stack(const RunConfig& rc, bool live) {
  const feed::SocketStack st = feed::detect_socket_stack();
  if (Logger* lg = Logger::global())  // cold: the whole evidence text, not a record's truncated field
    lg->write_text(LogLevel::info, "net",
                   fmt::format("socket_stack={} evidence={} feed_transport={} order_transport={} hardware_timestamps={}", st.name,
                               log_quote(st.evidence.empty() ? std::string("none") : st.evidence), feed::to_string(rc.feed_transport),
                               live ? feed::to_string(rc.live.transport) : std::string_view("none"), rc.hardware_timestamps));
}

// Paper trading: live market data over TLS WebSocket, simulated fills. Same outputs as a replay.
int cmd_paper() {
  RunConfig rc = RunConfig::load(g_paper.config);
  if (!g_paper.runs_dir.empty()) rc.runs_dir = g_paper.runs_dir;
  if (rc.ws_url.empty() && rc.bullet_url.empty())
    throw Error(g_paper.config + ": [feed] url (or bullet_url for KuCoin) is required for paper trading");
  check_paper_topology(rc, "paper");
  check_feed_transport(rc);
  check_engine_for_run(rc, Topology::fused);
  RunSession s(rc, "paper-", "paper");
  log_network_stack(rc, false);
  const std::string& feed_url = rc.ws_url.empty() ? rc.bullet_url : rc.ws_url;
  ENIGMA_LOG_INFO("engine", "paper start url={}", feed_url);
  std::fprintf(stderr, "enigma paper: %s -> %s (Ctrl-C to stop)\n", feed_url.c_str(), s.dir.c_str());
  return s.guarded([&] {
    PipelineResult r = run_paper(paper_options(rc, s.dir), s.registry, *s.strategies, *s.core, s.po);
    return s.finish(r, "paper");
  });
}

// The live run once the gateway is started: the pipeline until stop, then the gateway's figures.
int run_live_session(const RunConfig& rc, RunSession& s, LiveGateway& gateway) {
  PipelineResult r = run_live(paper_options(rc, s.dir), s.registry, *s.strategies, *s.core, s.po, rc.live.drain_ms * 1'000'000);
  gateway.stop();
  r.hist.signed_to_kernel.merge(gateway.signed_to_kernel_latency());
  r.hist.tick_to_wire.merge(gateway.tick_to_wire_latency());
  r.hist.kill_to_wire.merge(gateway.kill_to_wire_latency());
  const auto& c = r.orders;
  ENIGMA_LOG_INFO("live", "gateway requests={} answers={} unknown={} venue_rejects={} last_code={} stream_reports={} stream_connects={} "
                  "reconnect_reconciliations={}",
                  gateway.stats().requests.load(), gateway.stats().answers.load(), c.unknown_outcomes, c.venue_rejects,
                  c.last_venue_code, gateway.stats().stream_reports.load(), gateway.stats().stream_connects.load(),
                  c.reconnect_reconciliations);
  const LiveGatewayStats& gs = gateway.stats();
  ENIGMA_LOG_INFO("live", "venue_rate_limits used_weight={} http_429={} http_418={} budget_refusals={} backoff_refusals={} "
                  "ban_refusals={} budget_waits={}",
                  gs.used_weight.load(), gs.http_429.load(), gs.http_418.load(), gs.budget_refusals.load(),
                  gs.backoff_refusals.load(), gs.ban_refusals.load(), gs.budget_waits.load());
  if (s.core->working_orders() != 0)
    std::fprintf(stderr, "enigma live: %zu order(s) may still be working at the venue: check them there\n",
                 s.core->working_orders());
  return s.finish(r, "live");
}

// Live trading (README "Order entry"): market data exactly as paper, orders signed with the real credentials
// and sent to the venue through the gateway thread; fills from the venue's private stream. The same sequence for
// every live venue; what differs is the venue's oms::LiveVenue (oms/live_venue.hpp). Refuses without --confirm.
int cmd_live() {
  RunConfig rc = RunConfig::load(g_live.config);
  if (!g_live.runs_dir.empty()) rc.runs_dir = g_live.runs_dir;
  if (rc.ws_url.empty() && rc.bullet_url.empty())
    throw Error(g_live.config + ": [feed] url (or bullet_url for KuCoin) is required for live trading");
  if (!has_live_order_entry(rc.venue)) refuse_live_order_entry(rc.venue, g_live.config);
  for (const auto& e : rc.instruments)
    if (e.spec.venue != rc.venue)
      throw Error(g_live.config + ": instrument '" + std::string(e.spec.symbol.view()) + "' is not on " +
                  std::string(to_string(rc.venue)));
  check_paper_topology(rc, "live");
  check_feed_transport(rc);
  check_engine_for_run(rc, Topology::fused);
  // The credentials, or an error naming what is missing. The venues sign their requests' Host: "host[:port]".
  const feed::ParsedUrl rest = feed::parse_url(rc.live.rest_url);
  const std::unique_ptr<oms::LiveVenue> venue =
      oms::live_venue(rc.venue, rc.live, rest.port == "443" ? rest.host : rest.host + ":" + rest.port);
  if (!venue) refuse_live_order_entry(rc.venue, g_live.config);
  if (!g_live.confirm) {
    throw Error("live trading sends real orders to " + venue->orders_to() + " with the key from " + venue->key_origin() +
                "; the configuration and credentials are valid. Re-run with --confirm to trade");
  }
  RunSession s(rc, "live-", "live");
  log_network_stack(rc, true);
  return s.guarded([&] {
    LiveGatewayOptions go;
    go.rest_url = rc.live.rest_url;
    go.user_ws_url = rc.live.user_ws_url;
    go.api_key = venue->api_key();
    go.tls.ca_file = rc.live.ca_file.empty() ? rc.ca_file : rc.live.ca_file;
    go.request_timeout_ns = rc.live.request_timeout_ms * 1'000'000;
    go.order_connections = static_cast<int>(rc.live.order_connections);
    go.core = static_cast<int>(rc.live.gateway_core);
    if (go.core >= 0 && std::find(rc.engine.cores.begin(), rc.engine.cores.end(), go.core) != rc.engine.cores.end())
      ENIGMA_LOG_WARN("live", "gateway_core={} is also an [engine] core: two spinning threads share it", go.core);
    go.transport = rc.live.transport;
    go.venue = rc.venue;
    static_cast<oms::LiveAccess&>(go) = venue->access(s.registry);
    go.budget.reserve_pct = static_cast<std::uint32_t>(rc.live.rate_reserve_pct);
    LiveGateway gateway(s.registry, go);
    // Before anything else reaches the venue: a key that can withdraw or transfer out is refused (exit 3).
    (void)check_key_permissions(rc.live.account_api_url, venue->key_permissions_request(), go.tls, go.request_timeout_ns);
    venue->arm(gateway, s.registry);
    s.core->go_live(gateway, venue->order_entry(s.registry));
    // Before the first order: the venue's open orders, positions and balance (README "State directory").
    const auto wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
    (void)reconcile_live(*s.core, s.registry, *venue->queries(gateway, s.registry), rc.live.unknown_orders, s.dir,
                         wall_ns.count());
    // What is still working after reconciliation is ours again: the risk gate counts it, and the kill switch,
    // the stop policy and the "position without a stop" check see it.
    s.start_equity = s.core->last_equity();  // the venue's balance: the rollout's P&L counts from it
    const std::size_t adopted = s.core->track_restored_orders(wall_ns.count());
    if (adopted != 0) ENIGMA_LOG_INFO("resume", "{} working order(s) from the journal tracked by the engine again", adopted);
    gateway.start();
    const std::string market = rc.ws_url.empty() ? rc.bullet_url : rc.ws_url;
    const std::string orders_to = venue->orders_to();
    if (Logger* lg = Logger::global())  // cold: whole URLs, not a record's truncated fields
      lg->write_text(LogLevel::info, "engine",
                     fmt::format("live start venue={} market={} orders={} order_entry={} auth={}", to_string(rc.venue),
                                 log_quote(market), log_quote(orders_to), venue->order_entry_kind(), venue->auth()));
    std::fprintf(stderr, "enigma live: %.*s, orders to %s -> %s (Ctrl-C to stop and cancel)\n",
                 static_cast<int>(venue->name().size()), venue->name().data(), orders_to.c_str(), s.dir.c_str());
    return run_live_session(rc, s, gateway);
  });
}

int cmd_bench() {
  const RunConfig rc = load_run_config(g_bench);
  check_engine_for_run(rc, Topology::pipelined);  // bench runs both topologies; fused pins cores[0]
  BenchOptions bo;
  bo.recorded_pace_window_ns = static_cast<std::int64_t>(g_bench_recorded_seconds) * 1'000'000'000;
  return run_bench(rc, g_bench.quiet, bo);
}

int cmd_tune_report() {
  const RunConfig rc = load_run_config(g_tune);
  TuneReportOptions opt;
  opt.quick = g_tune_quick;
  return run_tune_report(rc, opt);
}

int cmd_check_host() {
  tuning::HostCheckOptions opt;
  if (!g_check_host.cores.empty()) opt.trading_cores = tuning::parse_cpu_list(g_check_host.cores);
  auto checks = tuning::check_host(opt);
  // Network timestamping (ETHTOOL_GET_TS_INFO) per interface, and the socket stack this process runs on:
  // hardware rx stamps need a NIC with a PTP clock and `[feed] hardware_timestamps = true`.
  for (const feed::NicTimestamping& n : feed::nic_timestamping_caps()) {
    checks.push_back({"nic_timestamping", n.ok && n.hardware_rx() ? tuning::CheckStatus::ok : tuning::CheckStatus::info, n.describe(), ""});
  }
  const feed::SocketStack stack = feed::detect_socket_stack();
  checks.push_back({"socket_stack", tuning::CheckStatus::info,
                    stack.name + (stack.evidence.empty() ? "" : " (" + stack.evidence + ")") +
                        (stack.name == "kernel" ? "; kernel bypass: scripts/run-bypass.sh" : ""),
                    ""});
  // io_uring ([feed] transport = "io_uring"): kernels can switch it off (kernel.io_uring_disabled, 6.6+) and
  // container seccomp profiles often refuse io_uring_setup.
  if (const std::string why = feed::uring_unavailable_reason(); why.empty()) {
    checks.push_back({"io_uring", tuning::CheckStatus::ok, "available: [feed] transport = \"io_uring\" can be used", ""});
  } else {
    checks.push_back({"io_uring", tuning::CheckStatus::info,
                      why + " (kernel.io_uring_disabled or a seccomp profile); [feed] transport = \"io_uring\" is refused here",
                      ""});
  }
  std::fputs(tuning::format_checks(checks).c_str(), stdout);
  int warns = 0;
  for (const auto& c : checks) warns += c.status == tuning::CheckStatus::warn;
  std::printf("check-host: %zu checks, %d warnings%s\n", checks.size(), warns,
              warns ? " (apply fixes with tuning/apply.sh; dry-run by default)" : "");
  return 0;
}

int cmd_report() {
  const std::string html = write_report(g_report.run_dir);
  std::printf("report: wrote %s/report.md and %s\n", g_report.run_dir.c_str(), html.c_str());
  return 0;
}

int cmd_book_check() {
  const auto v = venue_from_string(g_book_check.venue);
  if (!v) throw Error("unknown venue '" + g_book_check.venue + "'");
  feed::BookCheckOptions opt;
  opt.verbose = g_book_check.verbose;
  opt.strict = g_book_check.strict;
  for (const std::string& f : g_book_check.exchange_info) {  // errors name the file (exit 3)
    feed::ExchangeInfo info = feed::load_exchange_info(*v, f);
    std::fprintf(stderr, "book-check: %s: %zu instruments of %s\n", f.c_str(), info.specs.size(), g_book_check.venue.c_str());
    opt.exchange_info.insert(opt.exchange_info.end(), info.specs.begin(), info.specs.end());
  }
  const feed::BookCheckResult r = book_check(*v, g_book_check.files, opt);
  // Notes name symbols taken from the data: escaped like every other quote of input.
  for (const auto& n : r.notes) std::fprintf(stderr, "  %s\n", feed::quote_input(n, 400).c_str());
  std::printf("book-check: checked=%llu mismatched=%llu gaps=%llu resyncs=%llu duplicates=%llu decode_errors=%llu bad_lines=%llu\n",
              (unsigned long long)r.checked, (unsigned long long)r.mismatched, (unsigned long long)r.gaps,
              (unsigned long long)r.resyncs, (unsigned long long)r.duplicates, (unsigned long long)r.errors,
              (unsigned long long)r.bad_lines);
  if (!r.check_kind.empty()) std::printf("book-check: checks: %llu x %s\n", (unsigned long long)r.checked, r.check_kind.c_str());
  if (r.quotes != 0)
    std::printf("book-check: venue quotes %llu: compared %llu, not compared %llu (inside_diff=%llu before_sync=%llu unreached=%llu)\n",
                (unsigned long long)r.quotes, (unsigned long long)r.checked, (unsigned long long)r.uncompared.total(),
                (unsigned long long)r.uncompared.inside_diff, (unsigned long long)r.uncompared.before_sync,
                (unsigned long long)r.uncompared.unreached);
  // Reported, not a failure: the venue's own snapshots keep orders placed before a tick-size change (the
  // bundled CTKUSDT book holds 131 levels on the older, finer grid), and KuCoin spot sizes are remainders.
  if (!opt.exchange_info.empty())
    std::printf("book-check: exchange info: levels off the listed tick %llu, off the listed lot %llu, symbols not listed %llu\n",
                (unsigned long long)r.off_tick, (unsigned long long)r.off_lot, (unsigned long long)r.unlisted);
  // checked=0 is never a pass: a capture whose books never met a venue quote proved nothing.
  if (r.checked == 0) {
    std::fprintf(stderr, "book-check: nothing could be verified (checked=0): no venue top of book or checksum met a synced book\n");
    return 1;
  }
  return r.mismatched == 0 ? 0 : 1;
}

// Writes the table to a temporary file beside `--out` and renames it over `--out` only when complete, so
// an error (bad row, full disk) never leaves a half-written output behind or destroys an older one.
int cmd_indicators() {
  auto in = strategy::open_maybe_gzip(g_indicators.csv);
  if (g_indicators.out.empty()) {
    strategy::write_indicator_csv(*in, std::cout, g_indicators.csv);
    std::cout.flush();
    if (!std::cout) throw Error("indicators: writing to stdout failed");
    return 0;
  }
  const std::filesystem::path out_path(g_indicators.out);
  std::string tmp = (out_path.parent_path() / ("." + out_path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw Error("cannot write '" + g_indicators.out + "': " + std::strerror(errno));
  const mode_t mask = ::umask(0);
  ::umask(mask);
  (void)::fchmod(fd, 0666 & ~mask);  // what a plain create would give, not mkstemp's 0600
  ::close(fd);
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error("cannot write '" + tmp + "'");
      strategy::write_indicator_csv(*in, out, g_indicators.csv);
      out.close();
      if (!out) throw Error("writing '" + tmp + "' failed");
    }
    if (::rename(tmp.c_str(), g_indicators.out.c_str()) != 0)
      throw Error("cannot rename '" + tmp + "' to '" + g_indicators.out + "': " + std::strerror(errno));
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  std::fprintf(stderr, "indicators: wrote %s\n", g_indicators.out.c_str());
  return 0;
}

int cmd_convert() {
  const feed::ConvertStats s = feed::convert_capture(g_convert.capture, g_convert.out);
  std::printf("convert: %llu frames (%s) -> %s\n", (unsigned long long)s.frames, std::string(feed::to_string(s.format)).c_str(),
              g_convert.out.c_str());
  return 0;
}

struct RolloutArgs {
  std::string action, state_dir;
} g_rollout;

std::vector<std::pair<CLI::App*, std::function<int()>>> g_commands;

// --venue of replay and bench: a name the engine knows, else a usage error (exit 2) that lists them.
const CLI::Validator kVenueName(
    [](std::string& v) -> std::string {
      if (venue_from_string(v)) return {};
      return "unknown venue '" + v + "' (binance-usdm, binance-coinm, binance-spot, kucoin-futures, kucoin-spot, okx, bybit, coinbase, kraken-spot, kraken-futures)";
    },
    "VENUE");

// CPUs online on this host ("0-3,6"), from sysfs; empty when it cannot be read.
std::vector<int> online_cpus() {
  std::ifstream f("/sys/devices/system/cpu/online");
  std::string text;
  std::getline(f, text);
  try {
    return tuning::parse_cpu_list(text);
  } catch (const std::exception&) {
    return {};
  }
}

// check-host --cores: a non-empty list of N or N-M ranges, every CPU online here; else a usage error.
const CLI::Validator kCpuList(
    [](std::string& v) -> std::string {
      if (v.empty()) return "empty CPU list (expected e.g. 2-3 or 2,4)";
      std::vector<int> cpus;
      std::size_t start = 0;
      while (true) {  // parse_cpu_list skips empty parts ("2,,3"); a typed list must not have any
        const std::size_t comma = v.find(',', start);
        const std::string part = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (part.empty()) return "'" + v + "' has an empty entry (expected N or N-M, comma separated)";
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      try {
        cpus = tuning::parse_cpu_list(v);
      } catch (const std::exception& e) {
        return e.what();
      }
      const std::vector<int> online = online_cpus();
      for (const int c : cpus) {
        if (!online.empty() && std::find(online.begin(), online.end(), c) == online.end())
          return "CPU " + std::to_string(c) + " is not online on this host (online: " + cpu_list_text(online) + ")";
      }
      return {};
    },
    "CPUS");

void add_log_format_option(CLI::App* c) {
  c->add_option("--log-format", g_log_format, "text | json: the run log's format (default from config: [log] format)")
      ->check(CLI::IsMember({"text", "json"}));
}

// `speed_and_topology`: false for bench, which runs both speeds and both topologies itself.
void add_run_options(CLI::App* c, RunArgs& a, bool speed_and_topology = true) {
  c->add_option("--config", a.config, "TOML config")->capture_default_str()->check(CLI::ExistingFile);
  c->add_option("--data", a.data, "Recorded files (hftbacktest .gz, cryptofeed .raw.txt/.jsonl, zip); overrides [replay] data")
      ->check(CLI::ExistingFile);
  if (speed_and_topology) {
    c->add_option("--speed", a.speed, "max | recorded")->check(CLI::IsMember({"max", "recorded"}));
    c->add_option("--topology", a.topology, "fused | pipelined")->check(CLI::IsMember({"fused", "pipelined"}));
  }
  c->add_option("--venue", a.venue, "Venue of the data (binance-usdm, binance-spot, kucoin-futures, kucoin-spot, ...)")->check(kVenueName);
  c->add_option("--runs-dir", a.runs_dir, "Where run directories are created (default from config: runs)");
  c->add_flag("--quiet", a.quiet, "No progress lines");
  add_log_format_option(c);
}

}  // namespace

void register_commands(CLI::App& app) {
  {
    auto* c = app.add_subcommand("replay", "Backtest: replay recorded data through the full pipeline against the simulated exchange");
    add_run_options(c, g_replay);
    c->footer("Strategies ([strategy] kind): " + strategy_kinds_text() + " (enigma strategies: their keys and defaults)");
    c->add_flag("--strict", g_replay.strict,
                "Stop at the first bad line or damaged file (exit 3 naming file and line or offset) instead of skipping it");
    g_commands.emplace_back(c, cmd_replay);
  }
  {
    auto* c = app.add_subcommand("backtest",
                                 "Backtest over long histories: candle CSVs (.csv/.csv.gz), L2 captures and funding CSVs of several "
                                 "instruments ([[backtest.input]]), streamed through replay's pipeline and simulated exchange");
    c->add_option("--config", g_backtest.config, "TOML config with [[backtest.input]] entries")->capture_default_str()->check(CLI::ExistingFile);
    c->add_option("--data", g_backtest.data, "Files for the first [[backtest.input]] (its candles, else its captures); overrides the config's")
        ->check(CLI::ExistingFile);
    c->add_option("--runs-dir", g_backtest.runs_dir, "Where run directories are created (default from config: runs)");
    c->add_flag("--quiet", g_backtest.quiet, "No progress lines");
    add_log_format_option(c);
    g_commands.emplace_back(c, cmd_backtest);
  }
  {
    auto* c = app.add_subcommand("paper", "Paper trading: live market data over TLS WebSocket, simulated exchange fills");
    c->add_option("--config", g_paper.config, "TOML config with a [feed] section")->required()->check(CLI::ExistingFile);
    c->add_option("--runs-dir", g_paper.runs_dir, "Where run directories are created");
    add_log_format_option(c);
    g_commands.emplace_back(c, cmd_paper);
  }
  {
    auto* c = app.add_subcommand("live", "Live trading on Binance USD-M, KuCoin Futures, Bybit linear or OKX swaps ([replay] venue): live market data, real orders (needs --confirm; an API key that can withdraw or transfer out is refused)");
    c->add_option("--config", g_live.config, "TOML config with [feed] and [live] sections")->required()->check(CLI::ExistingFile);
    c->add_option("--runs-dir", g_live.runs_dir, "Where run directories are created");
    add_log_format_option(c);
    c->add_flag("--confirm", g_live.confirm, "Really send orders (without it: validate config and credentials, then refuse)");
    g_commands.emplace_back(c, cmd_live);
  }
  {
    auto* c = app.add_subcommand("bench", "Latency benchmark: the order path first (frame in -> signed order bytes, whole and by stage, against its floor), then replays at full rate and recorded pace in both topologies, with the floor");
    add_run_options(c, g_bench, false);
    c->add_option("--recorded-seconds", g_bench_recorded_seconds,
                  "Data time replayed at recorded pace per topology (0: no recorded-pace runs, the full-rate runs only)")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    g_commands.emplace_back(c, cmd_bench);
  }
  {
    auto* c = app.add_subcommand("book-check", "Rebuild books from recorded files and verify them against the venue's top of book or checksum");
    c->add_option("--venue", g_book_check.venue, "binance-usdm|binance-coinm|binance-spot|kucoin-spot|kucoin-futures|okx|bybit|coinbase|kraken-spot|kraken-futures")
        ->required()
        ->check(CLI::IsMember({"binance-usdm", "binance-coinm", "binance-spot", "kucoin-spot", "kucoin-futures", "okx", "bybit", "coinbase", "kraken-spot", "kraken-futures"}));
    c->add_option("files", g_book_check.files, "Recorded files (formats detected automatically)")->required()->check(CLI::ExistingFile);
    c->add_option("--exchange-info", g_book_check.exchange_info,
                  "The venue's instrument list (its exchange-info answer saved as a file; repeatable): every symbol gets the "
                  "venue's tick and lot, and the levels of its final book off that grid are counted")
        ->allow_extra_args(false)  // one file per --exchange-info: the recorded files follow as positionals
        ->check(CLI::ExistingFile);
    c->add_flag("--verbose", g_book_check.verbose, "Print details of mismatches");
    c->add_flag("--strict", g_book_check.strict,
                "Stop at the first bad line or damaged file (exit 3 naming file and line or offset) instead of skipping it");
    g_commands.emplace_back(c, cmd_book_check);
  }
  {
    auto* c = app.add_subcommand("indicators", "Compute every indicator over an OHLCV CSV (TA-Lib compatible columns)");
    c->add_option("--csv", g_indicators.csv, "Input CSV (time|timestamp_s|datetime, open, high, low, close, volume; .gz ok)")
        ->required()->check(CLI::ExistingFile);
    c->add_option("--out", g_indicators.out, "Output CSV (default: stdout)");
    g_commands.emplace_back(c, cmd_indicators);
  }
  {
    auto* c = app.add_subcommand("convert", "Convert a capture (shared/data formats) into enigma's crash-safe frame recording");
    c->add_option("capture", g_convert.capture, "Capture file")->required()->check(CLI::ExistingFile);
    c->add_option("out", g_convert.out, "Output recording")->required();
    g_commands.emplace_back(c, cmd_convert);
  }
  {
    auto* c = app.add_subcommand("rollout", "Staged rollout of a paper/live account: status, or promote to the next stage when its gates pass");
    c->add_option("action", g_rollout.action, "status | promote")->required()->check(CLI::IsMember({"status", "promote"}));
    c->add_option("state_dir", g_rollout.state_dir, "The account's state directory ([state] dir)")->required()->check(CLI::ExistingDirectory);
    g_commands.emplace_back(c, [] { return rollout_command(g_rollout.action, g_rollout.state_dir); });
  }
  {
    static std::string journal_path;
    auto* c = app.add_subcommand("journal-check", "Inspect an order journal (file or directory of segments): contents and damage");
    c->add_option("path", journal_path, "Journal file (e.g. runs/<run>/journal.bin) or directory of its segments")->required();
    g_commands.emplace_back(c, [] { return run_journal_check(journal_path, std::cout); });
  }
  {
    auto* c = app.add_subcommand("report", "Regenerate report.md and report.html for a run directory");
    c->add_option("run_dir", g_report.run_dir, "Run directory (runs/<timestamp>)")->required()->check(CLI::ExistingDirectory);
    g_commands.emplace_back(c, cmd_report);
  }
  {
    auto* c = app.add_subcommand("check-host", "Check host tuning for low latency (isolcpus, governor, C-states, THP, IRQs, ...)");
    c->add_option("--cores", g_check_host.cores, "Trading cores to check, e.g. 2-3 or 2,4 (online CPUs; default: all but cpu0)")
        ->check(kCpuList);
    g_commands.emplace_back(c, cmd_check_host);
  }
  {
    auto* c = app.add_subcommand("tune-report",
                                 "Measure this host (core-to-core hops, timers, page faults, the order path per layout) and "
                                 "recommend an [engine] block (< 60 s)");
    c->add_option("--config", g_tune.config, "TOML config whose replay data drives the order-path runs")->capture_default_str()->check(CLI::ExistingFile);
    c->add_option("--runs-dir", g_tune.runs_dir, "Where runs/tune-<UTC>/ is created (default from config: runs)");
    c->add_flag("--quick", g_tune_quick, "Short probes and one pinned CPU (a few seconds; tests and CI)");
    g_commands.emplace_back(c, cmd_tune_report);
  }
  {
    auto* c = app.add_subcommand("strategies", "List the registered strategies (strategy/strategies/): kind, summary, config keys with defaults and ranges");
    g_commands.emplace_back(c, [] {
      print_strategies(std::cout);
      return 0;
    });
  }
}

int run_selected_command(CLI::App& app) {
  for (auto& [sub, fn] : g_commands)
    if (sub->parsed()) return fn();
  throw Error("no command given (see --help)");
}

}  // namespace enigma::engine

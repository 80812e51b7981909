#include "tuning/host_check.hpp"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace enigma::tuning {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The CPU as /proc/cpuinfo's first processor describes it: model name, family and model, and whether it has
// the instruction sets the engine's speed depends on (simdjson picks its AVX-512 kernel when it can; the
// CRC32 of OKX's checksum folds with PCLMULQDQ; OpenSSL's SHA-256 uses the SHA extensions). Bench figures
// from CPUs that differ here are not comparable, so every bench report names them.
std::string cpu_description(const std::string& cpuinfo) {
  std::map<std::string, std::string> first;  // "key : value" lines of the first processor block
  auto trim = [](std::string v) {
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t") + 1);
    return v;
  };
  std::istringstream in(cpuinfo);
  for (std::string line; std::getline(in, line) && !line.empty();) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    first[trim(line.substr(0, colon))] = trim(line.substr(colon + 1));
  }
  if (first["model name"].empty()) return "";
  const std::string flags = " " + first["flags"] + " ";
  auto has = [&](const char* f) { return flags.find(std::string(" ") + f + " ") != std::string::npos ? "yes" : "no"; };
  return first["model name"] + " (family " + first["cpu family"] + " model " + first["model"] + "); avx512f " + has("avx512f") +
         ", avx2 " + has("avx2") + ", sha_ni " + has("sha_ni") + ", pclmulqdq " + has("pclmulqdq");
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Value of "key=value" on the kernel command line, or "" (and `present` false) when absent.
std::string cmdline_value(const std::string& cmdline, const std::string& key, bool& present) {
  std::istringstream ss(cmdline);
  std::string tok;
  present = false;
  while (ss >> tok) {
    if (tok == key) { present = true; return ""; }
    if (tok.rfind(key + "=", 0) == 0) { present = true; return tok.substr(key.size() + 1); }
  }
  return "";
}

std::string join(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

bool covers(const std::vector<int>& set, const std::vector<int>& need) {
  const std::set<int> s(set.begin(), set.end());
  return std::all_of(need.begin(), need.end(), [&](int c) { return s.count(c) != 0; });
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& list) {
  std::vector<int> out;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    try {
      const auto dash = part.find('-');
      std::size_t used = 0;
      if (dash == std::string::npos) {
        const int v = std::stoi(part, &used);
        if (used != part.size() || v < 0) throw std::invalid_argument(part);
        out.push_back(v);
      } else {
        const int a = std::stoi(part.substr(0, dash));
        const int b = std::stoi(part.substr(dash + 1), &used);
        if (used != part.size() - dash - 1 || a < 0 || b < a) throw std::invalid_argument(part);
        for (int c = a; c <= b; ++c) out.push_back(c);
      }
    } catch (const std::exception&) {
      throw Error("bad CPU list '" + list + "': cannot read '" + part + "' (expected N or N-M, comma separated)");
    }
  }
  return out;
}

std::vector<HostCheck> check_host(const HostCheckOptions& opt) {
  const std::string r = opt.root == "/" ? "" : opt.root;
  std::vector<HostCheck> out;
  const std::string cmdline = read_text(r + "/proc/cmdline");
  const std::vector<int> online = parse_cpu_list(read_text(r + "/sys/devices/system/cpu/online"));
  std::vector<int> cores = opt.trading_cores;
  if (cores.empty() && online.size() > 1) cores.assign(online.begin() + 1, online.end());  // all but cpu0
  const std::string cores_s = join(cores);
  const std::string cores_fix = cores_s.empty() ? "2-3" : cores_s;
  if (const std::string cpu = cpu_description(read_text(r + "/proc/cpuinfo")); !cpu.empty())
    out.push_back({"cpu", CheckStatus::info, cpu, ""});

  // Isolation keeps the scheduler, timer ticks and RCU callbacks off the trading cores.
  {
    const std::vector<int> iso = parse_cpu_list(read_text(r + "/sys/devices/system/cpu/isolated"));
    bool p = false;
    const std::string nohz = cmdline_value(cmdline, "nohz_full", p);
    const std::string rcu = cmdline_value(cmdline, "rcu_nocbs", p);
    const std::string grub = "add 'isolcpus=" + cores_fix + " nohz_full=" + cores_fix + " rcu_nocbs=" + cores_fix +
                             "' to GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub && reboot";
    out.push_back({"isolcpus", covers(iso, cores) && !cores.empty() ? CheckStatus::ok : CheckStatus::warn,
                   "isolated: [" + join(iso) + "], trading cores: [" + cores_s + "]", covers(iso, cores) && !cores.empty() ? "" : grub});
    const bool nohz_ok = !nohz.empty() && covers(parse_cpu_list(nohz), cores) && !cores.empty();
    out.push_back({"nohz_full", nohz_ok ? CheckStatus::ok : CheckStatus::warn, nohz.empty() ? "not set" : "nohz_full=" + nohz, nohz_ok ? "" : grub});
    const bool rcu_ok = !rcu.empty() && covers(parse_cpu_list(rcu), cores) && !cores.empty();
    out.push_back({"rcu_nocbs", rcu_ok ? CheckStatus::ok : CheckStatus::warn, rcu.empty() ? "not set" : "rcu_nocbs=" + rcu, rcu_ok ? "" : grub});
  }
  // Frequency scaling: 'performance' avoids ramp-up latency after idle.
  {
    std::string govs;
    bool all_perf = true, any = false;
    for (int c : online) {
      const std::string g = read_text(r + "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cpufreq/scaling_governor");
      if (g.empty()) continue;
      any = true;
      if (g != "performance") all_perf = false;
      if (govs.find(g) == std::string::npos) govs += (govs.empty() ? "" : ",") + g;
    }
    if (!any) out.push_back({"governor", CheckStatus::info, "no cpufreq interface (VM or fixed frequency)", ""});
    else out.push_back({"governor", all_perf ? CheckStatus::ok : CheckStatus::warn, "governors: " + govs,
                        all_perf ? "" : "cpupower frequency-set -g performance"});
    const std::string no_turbo = read_text(r + "/sys/devices/system/cpu/intel_pstate/no_turbo");
    const std::string boost = read_text(r + "/sys/devices/system/cpu/cpufreq/boost");
    if (!no_turbo.empty())
      out.push_back({"turbo", CheckStatus::info, no_turbo == "1" ? "turbo off (steady clocks)" : "turbo on (higher peak, more jitter)", ""});
    else if (!boost.empty())
      out.push_back({"turbo", CheckStatus::info, boost == "1" ? "boost on" : "boost off", ""});
    else
      out.push_back({"turbo", CheckStatus::info, "no turbo control exposed", ""});
  }
  // Deep C-states cost tens of microseconds on wake-up.
  {
    bool p = false;
    const std::string maxc = cmdline_value(cmdline, "processor.max_cstate", p);
    const std::string intel = cmdline_value(cmdline, "intel_idle.max_cstate", p);
    const std::string idle = cmdline_value(cmdline, "idle", p);
    const bool ok = idle == "poll" || maxc == "0" || maxc == "1" || intel == "0" || intel == "1";
    std::string states;
    for (const auto& s : list_dir(r + "/sys/devices/system/cpu/cpu0/cpuidle"))
      if (s.rfind("state", 0) == 0) states += (states.empty() ? "" : ",") + read_text(r + "/sys/devices/system/cpu/cpu0/cpuidle/" + s + "/name");
    out.push_back({"cstates", ok ? CheckStatus::ok : CheckStatus::warn,
                   (ok ? "deep C-states limited" : "deep C-states allowed") + std::string(states.empty() ? "" : " (cpu0 states: " + states + ")"),
                   ok ? "" : "add 'intel_idle.max_cstate=1 processor.max_cstate=1' to the kernel command line, or run with idle=poll"});
  }
  // THP compaction stalls; explicit hugepages for the rings are better.
  {
    const std::string thp = read_text(r + "/sys/kernel/mm/transparent_hugepage/enabled");
    const bool ok = thp.find("[never]") != std::string::npos || thp.find("[madvise]") != std::string::npos;
    out.push_back({"thp", thp.empty() ? CheckStatus::info : ok ? CheckStatus::ok : CheckStatus::warn, thp.empty() ? "no THP interface" : "transparent_hugepage: " + thp,
                   ok || thp.empty() ? "" : "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"});
    std::istringstream mi(read_text(r + "/proc/meminfo"));
    std::string line, total = "0";
    while (std::getline(mi, line))
      if (line.rfind("HugePages_Total:", 0) == 0) total = line.substr(line.find_last_of(' ') + 1);
    out.push_back({"hugepages", total != "0" ? CheckStatus::ok : CheckStatus::warn, "HugePages_Total: " + total,
                   total != "0" ? "" : "sysctl -w vm.nr_hugepages=512"});
  }
  // NIC interrupts should land on housekeeping cores, not trading cores; irqbalance would move them back.
  {
    std::istringstream in(read_text(r + "/proc/interrupts"));
    std::string line, bad;
    int nic_irqs = 0;
    while (std::getline(in, line)) {
      const bool nic = line.find("eth") != std::string::npos || line.find("ens") != std::string::npos ||
                       line.find("enp") != std::string::npos || line.find("mlx") != std::string::npos ||
                       (line.find("virtio") != std::string::npos && line.find("input") != std::string::npos);
      if (!nic) continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string irq = line.substr(0, colon);
      irq.erase(0, irq.find_first_not_of(' '));
      ++nic_irqs;
      const std::string aff = read_text(r + "/proc/irq/" + irq + "/smp_affinity_list");
      if (aff.empty()) continue;
      for (int c : parse_cpu_list(aff))
        if (std::find(cores.begin(), cores.end(), c) != cores.end()) { bad += (bad.empty() ? "" : " ") + irq; break; }
    }
    bool irqbalance = false;
    for (const auto& pid : list_dir(r + "/proc"))
      if (std::all_of(pid.begin(), pid.end(), ::isdigit) && read_text(r + "/proc/" + pid + "/comm") == "irqbalance") irqbalance = true;
    if (nic_irqs == 0) out.push_back({"nic_irq_affinity", CheckStatus::info, "no NIC interrupt lines found", ""});
    else out.push_back({"nic_irq_affinity", bad.empty() ? CheckStatus::ok : CheckStatus::warn,
                        std::to_string(nic_irqs) + " NIC IRQs" + (bad.empty() ? ", none on trading cores" : "; on trading cores: " + bad),
                        bad.empty() ? "" : "for i in " + bad + "; do echo 0 > /proc/irq/$i/smp_affinity_list; done"});
    out.push_back({"irqbalance", irqbalance ? CheckStatus::warn : CheckStatus::ok, irqbalance ? "irqbalance running" : "irqbalance not running",
                   irqbalance ? "systemctl disable --now irqbalance" : ""});
  }
  // Busy polling trades CPU for lower socket receive latency.
  {
    const std::string bp = read_text(r + "/proc/sys/net/core/busy_poll");
    const std::string br = read_text(r + "/proc/sys/net/core/busy_read");
    const bool ok = !bp.empty() && bp != "0" && !br.empty() && br != "0";
    out.push_back({"busy_poll", bp.empty() ? CheckStatus::info : ok ? CheckStatus::ok : CheckStatus::warn,
                   bp.empty() ? "sysctls not readable" : "net.core.busy_poll=" + bp + " busy_read=" + br,
                   ok || bp.empty() ? "" : "sysctl -w net.core.busy_poll=50 net.core.busy_read=50"});
  }
  // TSC as clocksource makes clock_gettime cheap; an invariant TSC makes rdtsc stamps comparable across cores.
  {
    const std::string cs = read_text(r + "/sys/devices/system/clocksource/clocksource0/current_clocksource");
    out.push_back({"clocksource", cs == "tsc" ? CheckStatus::ok : CheckStatus::warn, "current: " + (cs.empty() ? std::string("unknown") : cs),
                   cs == "tsc" ? "" : "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource"});
    const bool inv = opt.root == "/" ? cpu_has_invariant_tsc() : read_text(r + "/proc/cpuinfo").find("nonstop_tsc") != std::string::npos;
    out.push_back({"invariant_tsc", inv ? CheckStatus::ok : CheckStatus::warn, inv ? "invariant TSC present" : "no invariant TSC: latency stamps fall back to clock_gettime",
                   inv ? "" : "use a host whose CPU reports constant_tsc + nonstop_tsc"});
  }
  // NUMA: trading cores and the NIC should share a node.
  {
    std::string layout;
    int nodes = 0;
    for (const auto& n : list_dir(r + "/sys/devices/system/node"))
      if (n.rfind("node", 0) == 0 && n.size() > 4 && std::isdigit(static_cast<unsigned char>(n[4]))) {
        ++nodes;
        layout += (layout.empty() ? "" : "; ") + n + ": cpus " + read_text(r + "/sys/devices/system/node/" + n + "/cpulist");
      }
    out.push_back({"numa", CheckStatus::info, nodes == 0 ? "no NUMA information" : std::to_string(nodes) + " node(s): " + layout, ""});
  }
  return out;
}

std::string format_checks(const std::vector<HostCheck>& checks) {
  std::string s;
  for (const auto& c : checks) {
    const char* st = c.status == CheckStatus::ok ? "OK  " : c.status == CheckStatus::warn ? "WARN" : "INFO";
    char head[64];
    std::snprintf(head, sizeof head, "%s %-17s ", st, c.name.c_str());
    s += head + c.detail;
    if (!c.fix.empty()) s += "\n     fix: " + c.fix;
    s += '\n';
  }
  return s;
}

}  // namespace enigma::tuning

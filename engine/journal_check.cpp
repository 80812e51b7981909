#include "engine/journal_check.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "core/error.hpp"
#include "oms/journal.hpp"

namespace enigma::engine {

namespace {

bool has_journal_magic(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, sizeof magic) && std::equal(magic, magic + 8, oms::kJournalMagic);
}

// Base name of the journal a segment file belongs to: "journal.000012.bin" -> "journal.bin".
std::string base_of(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  const std::string ext = p.extension().string();
  const std::string stem = name.substr(0, name.size() - ext.size());
  const std::size_t dot = stem.rfind('.');
  if (dot != std::string::npos && stem.size() - dot - 1 >= 6 &&
      stem.find_first_not_of("0123456789", dot + 1) == std::string::npos) {
    return (p.parent_path() / (stem.substr(0, dot) + ext)).string();
  }
  return p.string();
}

}  // namespace

int run_journal_check(const std::string& path, std::ostream& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string base = path;
  if (fs::is_directory(path, ec)) {
    std::set<std::string> bases;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.is_regular_file() && has_journal_magic(e.path())) bases.insert(base_of(e.path()));
    }
    if (bases.empty()) throw Error("journal-check: no journal segments (files starting with ENIGJRN1) in " + path);
    if (bases.size() > 1) {
      std::cerr << "journal-check: " << path << " holds several journals; name one:\n";
      for (const std::string& b : bases) std::cerr << "  " << b << "\n";
      return 2;
    }
    base = *bases.begin();
  } else if (!fs::exists(path, ec)) {
    throw Error("journal-check: cannot read " + path + ": no such file or directory");
  } else {
    base = base_of(fs::path(path));
  }

  const oms::JournalInspection in = oms::inspect_journal(base);
  out << "journal: " << base << "\n";
  out << "segments: " << in.segments.size() << "\n";
  std::size_t by_type[9] = {};
  for (const oms::JournalSegmentInfo& s : in.segments) {
    out << "  " << s.path << ": segment " << s.index << ", " << s.capacity << " slots, ";
    if (s.index > 0) out << "snapshot of " << s.snapshot_records << " records as of #" << s.snapshot_seq << ", ";
    if (s.live_records > 0) out << s.live_records << " records #" << s.first_seq << "..#" << s.last_seq;
    else out << "no records";
    if (s.torn_tail) out << " (torn last record)";
    out << "\n";
    for (std::size_t t = 0; t < std::size(by_type); ++t) by_type[t] += s.by_type[t];
  }
  out << "records by type:";
  for (std::size_t t = 1; t < std::size(by_type); ++t) {
    out << " " << oms::to_string(static_cast<oms::RecordType>(t)) << "=" << by_type[t];
  }
  out << "\n";
  if (in.damage) {
    out << "DAMAGED: " << in.damage->message() << "\n";
    out << "journal-check: damaged (the engine refuses to open this journal; it was not modified)\n";
    return 1;
  }
  const oms::JournalReplay& r = in.state;
  // Positions by state: only open / trailing ones hold quantity (signal and pending are entries not filled).
  std::size_t by_state[5]{};
  for (const oms::Position& p : r.positions) ++by_state[static_cast<std::size_t>(p.state) % 5];
  const std::size_t open_positions = by_state[static_cast<int>(oms::PositionState::open)] + by_state[static_cast<int>(oms::PositionState::trailing)];
  out << "replay: last record #" << r.records << ", read " << r.segments_read << " of " << r.segments << " segments\n";
  out << "orders: " << r.orders.size() << " (open " << r.open_orders().size() << ")\n";
  for (const oms::OrderState* o : r.open_orders()) {
    out << "  open " << o->client_id().view() << " status=" << static_cast<int>(o->status) << " filled=" << o->filled.raw()
        << "\n";
  }
  out << "positions: " << r.positions.size() << " (open " << open_positions << "), highest id " << r.max_position_id << "\n";
  out << "  by state:";
  for (int i = 0; i < 5; ++i) out << " " << oms::to_string(static_cast<oms::PositionState>(i)) << "=" << by_state[i];
  out << "\n";
  for (const oms::Position& p : r.positions)
    if (p.is_open()) out << "  open position " << p.id << " instrument=" << p.instrument << " qty=" << p.qty.to_string() << "\n";
  out << "next client counter: " << r.next_client_counter << "\n";
  out << "journal-check: clean" << (r.torn_tail ? " (a torn last record will be discarded on open)" : "") << "\n";
  return 0;
}

}  // namespace enigma::engine

// The search for one test input, in four stages:
//   1. the output size: the test output's size, predicted from the train pairs;
//   2. the states: every composition of the vocabulary up to max_depth, applied to the train
//      inputs and the test input at once, breadth-first; a state that makes the same images as an
//      earlier one everywhere is dropped (the earlier is as cheap or cheaper);
//   3. the pieces: the states' images brought to the output's size by the output adapters;
//   4. the stacker: each train output covered greedily by pieces that agree with it where they
//      show, on top of one another; the same pieces painted on the test canvas give the answer.
// Candidates are ranked by train outputs reproduced, then their deepest piece, then pieces used.
#include "search.hpp"

#include <algorithm>
#include <ctime>
#include <unordered_map>

#include "functions.hpp"

namespace {

constexpr int MAX_SIDE = 30;        // an answer's side, as ARC allows
constexpr int MAX_PIECES_STACKED = 10;
constexpr int UNSET = 10;           // a canvas cell no piece has painted yet

double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

struct State {
  int parent = -1, func = -1, depth = 0;
  bool list = false;
  std::vector<Images> vals;  // per example (train inputs, then the test input)
};

// A set of 64-bit hashes, open addressing with linear probing: the search asks it once per function
// applied, and std::unordered_set's node per entry cost more than the lookup.
class HashSet {
 public:
  // False when H was in the set already.
  bool insert(uint64_t h) {
    if (h == 0) h = 1;  // 0 marks an empty slot
    if (2 * (size_ + 1) > slots_.size()) grow();
    size_t i = (h * 0x9e3779b97f4a7c15ULL) >> shift_;
    for (;; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == h) return false;
      if (slots_[i] == 0) break;
    }
    slots_[i] = h;
    ++size_;
    return true;
  }

 private:
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
  int shift_ = 64;

  void grow() {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : 2 * old.size(), 0);
    shift_ = 64 - __builtin_ctzll(slots_.size());
    size_ = 0;
    for (uint64_t h : old)
      if (h) insert(h);
  }
};

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

uint64_t hash_state(const State &s) {
  uint64_t h = s.list ? 0x51ed2701ULL : 0x1234567ULL;
  for (const Images &v : s.vals) {
    h = mix(h, v.size());
    for (const Image &im : v) h = mix(h, hash_image(im));
  }
  return h;
}

// The test output's size: the same as the input's, one size for every pair, or the input's
// times a ratio or plus a margin that every pair shares. {0, 0} when none of these holds.
std::pair<int, int> predict_size(const std::vector<Pair> &train, const Image &test) {
  bool same = true, constant = true;
  for (const Pair &p : train) {
    same &= p.input.w == p.output.w && p.input.h == p.output.h;
    constant &= p.output.w == train[0].output.w && p.output.h == train[0].output.h;
  }
  if (same) return {test.h, test.w};
  if (constant) return {train[0].output.h, train[0].output.w};
  // out = in * num / den, per axis, the same fraction for every pair
  auto scaled = [&](bool rows) -> int {
    const Pair &p0 = train[0];
    long num = rows ? p0.output.h : p0.output.w, den = rows ? p0.input.h : p0.input.w;
    for (const Pair &p : train)
      if (long(rows ? p.output.h : p.output.w) * den != long(rows ? p.input.h : p.input.w) * num) return -1;
    long t = rows ? test.h : test.w;
    return (t * num) % den ? -1 : int(t * num / den);
  };
  auto shifted = [&](bool rows) -> int {
    const Pair &p0 = train[0];
    int d = rows ? p0.output.h - p0.input.h : p0.output.w - p0.input.w;
    for (const Pair &p : train)
      if ((rows ? p.output.h - p.input.h : p.output.w - p.input.w) != d) return -1;
    return (rows ? test.h : test.w) + d;
  };
  int h = scaled(true), w = scaled(false);
  if (h <= 0) h = shifted(true);
  if (w <= 0) w = shifted(false);
  if (h > 0 && w > 0 && h <= MAX_SIDE && w <= MAX_SIDE) return {h, w};
  return {0, 0};
}

struct Piece {
  std::vector<uint8_t> cells;  // every train output's canvas, then the test canvas, row-major
  int state, depth;            // state < 0: the output of train pair -1 - state (a given)
  int adapter;                 // 0 none, 1 to_origin, 2 embed
  int colour;                  // 0: as made, else recoloured to it
};

class Search {
 public:
  Search(const std::vector<Pair> &train, const Image &test, const Budget &budget)
      : train_(train), budget_(budget), n_(int(train.size())), began_(cpu_seconds()) {
    inputs_.reserve(n_ + 1);
    for (const Pair &p : train) inputs_.push_back(p.input);
    inputs_.push_back(test);
    int biggest = 0;
    for (const Pair &p : train) biggest = std::max({biggest, p.input.area(), p.output.area()});
    biggest = std::max(biggest, test.area());
    max_area_ = std::max(2 * biggest, 16);
    auto size = predict_size(train, test);
    out_h_ = size.first, out_w_ = size.second;
  }

  // Deepening by rounds, as the reference does (depth 2, then 3...): each round expands one more
  // level, makes its states into pieces and stacks again, so a small budget that cannot finish the
  // deepest level still stacks every shallower one.
  SearchReport run() {
    start();
    for (int depth = 1; depth <= budget_.max_depth; ++depth) {
      double t0 = cpu_seconds();
      const bool whole = expand_level(depth);
      double t1 = cpu_seconds();
      const bool last = !whole || depth == budget_.max_depth;
      make_pieces(last);
      double t2 = cpu_seconds();
      stack(depth);
      report_.seconds[0] += t1 - t0, report_.seconds[1] += t2 - t1, report_.seconds[2] += cpu_seconds() - t2;
      if (last || report_.status != "done") break;
    }
    report_.states = long(states_.size());
    report_.pieces = long(pieces_.size());
    report_.out_h = out_h_, report_.out_w = out_w_;
    std::sort(cands_.begin(), cands_.end(), [](const Candidate &a, const Candidate &b) { return a.score > b.score; });
    report_.candidates = cands_;
    return report_;
  }

 private:
  const std::vector<Pair> &train_;
  Budget budget_;
  int n_;  // train pairs; example n_ is the test input
  double began_;
  Images inputs_;
  int max_area_;
  int out_h_ = 0, out_w_ = 0;
  std::vector<State> states_;
  HashSet seen_;
  size_t level_begin_ = 0;  // the first state of the last level expanded
  size_t pieced_ = 0;       // states made into pieces so far
  // States already looked at for the output's size, whole and per side (rows, columns), and the side
  // found: each round looks only at the new states.
  size_t size_scanned_ = 0, side_scanned_[2] = {0, 0};
  int side_found_[2] = {0, 0};
  HashSet piece_seen_;      // pieces made so far, by their cells
  std::vector<Piece> pieces_;
  std::vector<Candidate> cands_;
  std::unordered_map<uint64_t, size_t> cand_index_;  // answer's hash -> its candidate
  SearchReport report_;
  long ticks_ = 0;

  bool out_of_time(double share) {
    if ((++ticks_ & 63) != 0) return false;
    return cpu_seconds() - began_ > budget_.seconds * share;
  }

  int out_h(int e) const { return e < n_ ? train_[e].output.h : out_h_; }
  int out_w(int e) const { return e < n_ ? train_[e].output.w : out_w_; }

  bool fits(const Images &v) const {
    long total = 0;
    for (const Image &im : v) {
      if (im.empty() || im.area() > max_area_) return false;
      total += im.area();
    }
    return total <= 5L * max_area_;
  }

  // F on the state S, or false when it does not apply to one of the examples.
  bool apply(const Function &f, const State &s, State &out) {
    out.vals.assign(n_ + 1, Images());
    out.list = s.list;
    for (int e = 0; e <= n_; ++e) {
      const Images &v = s.vals[e];
      Images &r = out.vals[e];
      switch (f.kind) {
        case Kind::Unary:
          r.reserve(v.size());
          for (const Image &im : v) {
            Image x = f.unary(im);
            if (!x.empty()) r.push_back(std::move(x));
          }
          break;
        case Kind::Canvas: {
          if (s.list) return false;
          int h = f.canvas_of ? out_h(e) : inputs_[e].h, w = f.canvas_of ? out_w(e) : inputs_[e].w;
          if (h <= 0 || w <= 0) return false;
          r.push_back(f.canvas(v[0], Image(w, h)));
          break;
        }
        case Kind::Split:
          if (s.list) return false;
          r = f.split(v[0]);
          out.list = true;
          break;
        case Kind::Join:
          if (!s.list) return false;
          r.push_back(f.join(v));
          out.list = false;
          break;
        case Kind::Filter:
          if (!s.list) return false;
          r = f.filter(v);
          break;
      }
      if (r.empty() || r.size() > 60 || !fits(r)) return false;
    }
    return true;
  }

  void start() {
    State first;
    first.vals.resize(n_ + 1);
    for (int e = 0; e <= n_; ++e) first.vals[e] = {inputs_[e]};
    seen_.insert(hash_state(first));
    states_.push_back(std::move(first));
  }

  // The states one function beyond the last level; false when the budget cut the level short.
  bool expand_level(int depth) {
    const auto &funcs = vocabulary();
    const size_t level_begin = level_begin_, level_end = states_.size();
    level_begin_ = level_end;
    report_.depth = depth;
    // The states may use this share of the budget; the pieces and the stacker have the rest.
    const double share = 0.6;
    for (size_t i = level_begin; i < level_end; ++i) {
      for (size_t fi = 0; fi < funcs.size(); ++fi) {
        const Function &f = funcs[fi];
        // A list must be joined before the end: a split needs a step after it.
        if (f.kind == Kind::Split && depth >= budget_.max_depth) continue;
        if (out_of_time(share)) { report_.status = "time"; return false; }
        if (long(states_.size()) >= budget_.max_states) { report_.status = "states"; return false; }
        State next;
        if (!apply(f, states_[i], next)) continue;
        uint64_t h = hash_state(next);
        if (!seen_.insert(h)) continue;
        next.parent = int(i), next.func = int(fi), next.depth = depth;
        states_.push_back(std::move(next));
      }
    }
    return true;
  }

  // The image a state shows on example E: itself, or a list laid over one another.
  Image shown(const State &s, int e) const { return s.list ? compose(s.vals[e]) : s.vals[e][0]; }

  // The pieces of the states made since the last call. LAST: no state will follow, so the output's
  // size may be taken side by side if no state gives it whole.
  void make_pieces(bool last) {
    if (out_h_ == 0) infer_size_from_states(last);
    if (out_h_ == 0) return;
    // Colours every train output has: a piece may be recoloured to one of them.
    std::vector<int> common;
    for (int c = 1; c < 10; ++c) {
      bool all = true;
      for (const Pair &p : train_) all &= colour_counts(p.output)[c] > 0;
      if (all) common.push_back(c);
    }
    size_t cells = 0;
    for (int e = 0; e <= n_; ++e) cells += size_t(out_h(e)) * out_w(e);
    const size_t max_pieces = std::min<size_t>(200000, 120000000 / std::max<size_t>(cells, 1));
    HashSet &seen = piece_seen_;
    std::vector<uint8_t> buf(cells);
    auto add = [&](const std::vector<Image> &ims, int state, int depth, int adapter, int colour) {
      size_t k = 0;
      for (int e = 0; e <= n_; ++e) {
        const Image &im = ims[e];
        for (uint8_t c : im.px) buf[k++] = colour && c ? uint8_t(colour) : c;
      }
      if (!seen.insert(hash_cells(buf.data(), cells))) return;
      pieces_.push_back(Piece{buf, state, depth, adapter, colour});
    };
    std::vector<Image> ims(n_ + 1);
    // Givens, as the reference has them: each train output, on every other example (its own pair gets
    // a blank), where the sizes agree. A stack of one covers the other pairs only: a partial fit, the
    // rest of the stack must paint its own pair.
    const bool first_call = pieced_ == 0 && pieces_.empty();
    for (int k = 0; k < n_ && first_call; ++k) {
      const Image &given = train_[k].output;
      bool fits = true;
      for (int e = 0; e <= n_; ++e) {
        fits &= out_h(e) == given.h && out_w(e) == given.w;
        ims[e] = e == k ? Image(given.w, given.h) : given;
      }
      if (fits) add(ims, -1 - k, 1, 0, 0);
    }
    for (size_t si = pieced_; si < states_.size() && pieces_.size() < max_pieces; pieced_ = ++si) {
      if (out_of_time(0.8)) { report_.status = "time"; break; }
      const State &s = states_[si];
      int extra = s.list ? 1 : 0;  // the join laying a list over itself
      bool sized = true, at_origin = true;
      for (int e = 0; e <= n_; ++e) {
        ims[e] = shown(s, e);
        sized &= ims[e].h == out_h(e) && ims[e].w == out_w(e);
        at_origin &= ims[e].x == 0 && ims[e].y == 0;
      }
      int adapter;
      if (sized) {
        adapter = at_origin ? 0 : 1;
      } else {
        for (int e = 0; e <= n_; ++e) ims[e] = embed(ims[e], Image(out_w(e), out_h(e)));
        adapter = 2;
      }
      bool blank = true;
      for (int e = 0; e <= n_ && blank; ++e)
        for (uint8_t c : ims[e].px) if (c) { blank = false; break; }
      if (blank) continue;
      int depth = s.depth + extra + (adapter ? 1 : 0);
      add(ims, int(si), depth, adapter, 0);
      for (int c : common) add(ims, int(si), depth + 1, adapter, c);
    }
    std::stable_sort(pieces_.begin(), pieces_.end(), [](const Piece &a, const Piece &b) { return a.depth < b.depth; });
  }

  // No rule gave the test output's size: take it from the first state whose images have every train
  // output's size; failing that, each side from the first state whose images give it for every train
  // output, as their own side (or the other) times 1-3 plus a constant.
  void infer_size_from_states(bool last) {
    const size_t looked_at = std::min<size_t>(states_.size(), 20000);
    for (size_t si = size_scanned_; si < looked_at; size_scanned_ = ++si) {
      bool ok = true;
      for (int e = 0; e < n_ && ok; ++e) {
        Image im = shown(states_[si], e);
        ok = im.h == train_[e].output.h && im.w == train_[e].output.w;
      }
      Image t = ok ? shown(states_[si], n_) : Image();
      if (ok && t.h <= MAX_SIDE && t.w <= MAX_SIDE) { out_h_ = t.h, out_w_ = t.w; return; }
    }
    // A deeper state may give it whole, the better guess; but from depth 2 on the canvases of the
    // output size need it, so the last rounds search with a side-by-side size rather than none.
    if (!last && report_.depth < 2) return;
    int h = infer_side(true), w = h > 0 ? infer_side(false) : 0;
    if (h > 0 && w > 0) out_h_ = h, out_w_ = w;
  }

  int infer_side(bool rows) {
    if (side_found_[rows]) return side_found_[rows];
    auto side = [&](const Image &im, bool r) { return r ? im.h : im.w; };
    int first = side(train_[0].output, rows);
    bool constant = true;
    for (const Pair &p : train_) constant &= side(p.output, rows) == first;
    if (constant) return first;
    std::vector<Image> ims(n_ + 1);
    const size_t looked_at = std::min<size_t>(states_.size(), 20000);
    for (size_t si = side_scanned_[rows]; si < looked_at; side_scanned_[rows] = ++si) {
      for (int e = 0; e <= n_; ++e) ims[e] = shown(states_[si], e);
      for (bool from_rows : {rows, !rows}) {
        for (int a = 1; a <= 3; ++a) {
          int b = first - a * side(ims[0], from_rows);
          bool all = true;
          for (int e = 1; e < n_ && all; ++e) all = side(train_[e].output, rows) == a * side(ims[e], from_rows) + b;
          int t = a * side(ims[n_], from_rows) + b;
          if (all && t >= 1 && t <= MAX_SIDE) return side_found_[rows] = t;
        }
      }
    }
    return 0;
  }

  // Stacks at every depth threshold from FROM_DEPTH: a shallower one allows no piece the last round
  // did not have (a state of depth d makes pieces of depth d or more).
  void stack(int from_depth) {
    if (pieces_.empty()) return;
    std::vector<size_t> offset(n_ + 2, 0);
    for (int e = 0; e <= n_; ++e) offset[e + 1] = offset[e] + size_t(out_h(e)) * out_w(e);
    const size_t train_cells = offset[n_], words = (train_cells + 63) / 64, P = pieces_.size();
    std::vector<uint8_t> target(train_cells);
    for (int e = 0; e < n_; ++e) std::copy(train_[e].output.px.begin(), train_[e].output.px.end(), target.begin() + offset[e]);
    // Per piece, in one block for the greedy loop's sake (rebuilt each round: most pieces come in the
    // last): where it differs from the train outputs, and where it is 0.
    std::vector<uint64_t> bad(P * words, 0), zero(P * words, 0);
    for (size_t p = 0; p < P; ++p) {
      const auto &c = pieces_[p].cells;
      for (size_t i = 0; i < train_cells; ++i) {
        if (c[i] != target[i]) bad[p * words + i / 64] |= 1ULL << (i % 64);
        if (c[i] == 0) zero[p * words + i / 64] |= 1ULL << (i % 64);
      }
    }
    std::vector<uint64_t> valid(words, 0);
    for (size_t i = 0; i < train_cells; ++i) valid[i / 64] |= 1ULL << (i % 64);
    std::vector<std::vector<uint64_t>> care(n_, std::vector<uint64_t>(words, 0));
    for (int e = 0; e < n_; ++e)
      for (size_t i = offset[e]; i < offset[e + 1]; ++i) care[e][i / 64] |= 1ULL << (i % 64);

    std::vector<int> thresholds;
    for (const Piece &p : pieces_)
      if (p.depth >= from_depth && (thresholds.empty() || thresholds.back() != p.depth)) thresholds.push_back(p.depth);
    // The pairs a stack must agree with: all of them (left_out -1), then all but one (a pair the rule
    // does not reach, or one that shows it wrongly, should not hide it; such a stack ranks below full fits).
    for (int left_out = -1; left_out < (n_ >= 2 ? n_ : 0); ++left_out) {
      std::vector<uint64_t> agree = valid;
      if (left_out >= 0)
        for (size_t k = 0; k < words; ++k) agree[k] &= ~care[left_out][k];
      for (int threshold : thresholds) {
        size_t allowed = 0;
        while (allowed < P && pieces_[allowed].depth <= threshold) ++allowed;
        for (int c = 0; c < n_; ++c) {
          if (c == left_out) continue;
          if (cpu_seconds() - began_ > budget_.seconds) { report_.status = "time"; return; }
          greedy(allowed, words, bad, zero, agree, care[c], offset);
        }
      }
    }
  }

  // One stack, greedily: each step the piece (and mode) that paints the most cells of the CARE
  // example and no wrong cell where AGREE asks for agreement.
  void greedy(size_t allowed, size_t words, const std::vector<uint64_t> &bad, const std::vector<uint64_t> &zero,
              const std::vector<uint64_t> &agree, const std::vector<uint64_t> &care, const std::vector<size_t> &offset) {
    std::vector<uint64_t> uncovered = agree;
    std::vector<uint8_t> canvas(offset[n_ + 1], UNSET);
    std::vector<std::pair<int, int>> chosen;  // (piece, mode)
    for (int step = 0; step < MAX_PIECES_STACKED; ++step) {
      long best_gain = 0;
      int best_piece = -1, best_mode = -1;
      for (size_t p = 0; p < allowed; ++p) {
        const uint64_t *b = &bad[p * words], *z = &zero[p * words];
        uint64_t wrong_solid = 0, wrong_zero = 0;
        long gain_solid = 0, gain_zero = 0;
        for (size_t k = 0; k < words; ++k) {
          uint64_t open = uncovered[k], x = open & b[k];
          wrong_solid |= x & ~z[k];
          wrong_zero |= x & z[k];
          uint64_t mine = open & care[k];
          gain_solid += __builtin_popcountll(mine & ~z[k]);
          gain_zero += __builtin_popcountll(mine & z[k]);
        }
        // Modes: 0 its non-zero cells (0 transparent), 1 its zero cells, 2 every cell.
        long gains[3] = {wrong_solid ? 0 : gain_solid, wrong_zero ? 0 : gain_zero,
                         (wrong_solid | wrong_zero) ? 0 : gain_solid + gain_zero};
        for (int m = 0; m < 3; ++m)
          if (gains[m] > best_gain) best_gain = gains[m], best_piece = int(p), best_mode = m;
      }
      if (best_piece < 0) break;
      chosen.push_back({best_piece, best_mode});
      const Piece &piece = pieces_[best_piece];
      for (size_t i = 0; i < canvas.size(); ++i) {
        if (canvas[i] != UNSET) continue;
        uint8_t v = piece.cells[i];
        bool paints = best_mode == 2 || (best_mode == 0 ? v != 0 : v == 0);
        if (!paints) continue;
        canvas[i] = v;
        if (i < offset[n_]) uncovered[i / 64] &= ~(1ULL << (i % 64));
      }
      record(canvas, chosen, offset, false);
    }
    record(canvas, chosen, offset, true);
  }

  // The canvas as a candidate (unset cells as 0 when FILL), if its test answer is whole.
  void record(const std::vector<uint8_t> &canvas, const std::vector<std::pair<int, int>> &chosen,
              const std::vector<size_t> &offset, bool fill) {
    if (chosen.empty()) return;
    int goods = 0;
    for (int e = 0; e < n_; ++e) {
      bool same = true;
      for (size_t i = offset[e]; i < offset[e + 1] && same; ++i) {
        uint8_t v = canvas[i] == UNSET && fill ? 0 : canvas[i];
        same = v == train_[e].output.px[i - offset[e]];
      }
      goods += same;
    }
    if (goods == 0) return;
    Image answer(out_w_, out_h_);
    for (size_t i = offset[n_]; i < offset[n_ + 1]; ++i) {
      uint8_t v = canvas[i];
      if (v == UNSET) {
        if (!fill) return;
        v = 0;
      }
      answer.px[i - offset[n_]] = v;
    }
    int depth = 0;
    for (auto &c : chosen) depth = std::max(depth, pieces_[c.first].depth);
    double score = goods - 0.01 * (depth + 0.001 * double(chosen.size()));
    uint64_t h = hash_image(answer);
    auto it = cand_index_.find(h);
    if (it != cand_index_.end() && cands_[it->second].score >= score) return;
    Candidate cand{answer, goods, depth, int(chosen.size()), score, program(chosen)};
    if (it != cand_index_.end()) {
      cands_[it->second] = cand;
    } else {
      cand_index_[h] = cands_.size();
      cands_.push_back(cand);
    }
  }

  std::string call(const std::string &name, const std::string &x) const {
    auto open = name.find('(');
    if (open == std::string::npos) return name + "(" + x + ")";
    return name.substr(0, open) + "(" + x + ", " + name.substr(open + 1);
  }

  // A piece's program as straight lines from the input I to its image.
  std::string piece_program(const Piece &piece, const std::string &prefix, std::string &result) const {
    std::vector<int> chain;
    for (int s = piece.state; s > 0; s = states_[s].parent) chain.push_back(s);
    std::reverse(chain.begin(), chain.end());
    const auto &funcs = vocabulary();
    std::string text, x = "I";
    int k = 0;
    auto line = [&](const std::string &expr) {
      std::string v = prefix + std::to_string(++k);
      text += (text.empty() ? "" : "; ") + v + " = " + expr;
      x = v;
    };
    if (piece.state < 0) line("output_of_pair(" + std::to_string(-1 - piece.state) + ")");
    for (int s : chain) line(call(funcs[states_[s].func].name, x));
    if (piece.state >= 0 && states_[piece.state].list) line("compose(" + x + ")");
    if (piece.adapter == 1) line("to_origin(" + x + ")");
    if (piece.adapter == 2) line("embed(" + x + ", output_size)");
    if (piece.colour) line("recolour(" + x + ", " + std::to_string(piece.colour) + ")");
    result = x;
    return text;
  }

  std::string program(const std::vector<std::pair<int, int>> &chosen) const {
    static const char *modes[3] = {"its colours", "its zeros", "all of it"};
    if (chosen.size() == 1 && chosen[0].second == 2) {
      std::string x, text = piece_program(pieces_[chosen[0].first], "x", x);
      if (text.empty()) return "O = I";
      auto at = text.rfind(x + " = ");
      return text.substr(0, at) + "O" + text.substr(at + x.size());
    }
    std::string text, layers;
    for (size_t i = 0; i < chosen.size(); ++i) {
      std::string prefix = std::string(1, char('a' + i)), x;
      std::string part = piece_program(pieces_[chosen[i].first], prefix, x);
      if (part.empty()) x = "I";
      text += part.empty() ? "" : part + "; ";
      layers += (i ? ", " : "") + x + " (" + modes[chosen[i].second] + ")";
    }
    return text + "O = stack(" + layers + ")";
  }
};

}  // namespace

SearchReport search_one(const std::vector<Pair> &train, const Image &test_input, const Budget &budget) {
  Search s(train, test_input, budget);
  return s.run();
}

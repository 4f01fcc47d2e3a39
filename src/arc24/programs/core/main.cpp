// arc24-search: the compiled program search, driven by arc24.programs.native over stdin/stdout.
//
//   arc24-search search   a task in, per test input its ranked candidates out
//   arc24-search apply    requests "apply this function to this value" in, results out (the tests
//                         compare them with the readable reference, image_functions.py)
//   arc24-search names    the vocabulary, one name a line
//
// The format is whitespace-separated integers; an image is "h w cells..." (search) or
// "x y h w cells..." (apply, where the position matters). See native.py for both sides.
#include <sys/prctl.h>

#include <csignal>
#include <iostream>
#include <string>
#include <unordered_map>

#include "functions.hpp"
#include "search.hpp"

namespace {

Image read_grid(std::istream &in) {
  int h, w;
  in >> h >> w;
  Image im(w, h);
  for (auto &c : im.px) {
    int v;
    in >> v;
    c = uint8_t(v);
  }
  return im;
}

void write_grid(std::ostream &out, const Image &im) {
  out << im.h << ' ' << im.w;
  for (uint8_t c : im.px) out << ' ' << int(c);
  out << '\n';
}

Image read_sprite(std::istream &in) {
  int x, y;
  in >> x >> y;
  Image im = read_grid(in);
  im.x = x, im.y = y;
  return im;
}

void write_sprite(std::ostream &out, const Image &im) {
  out << im.x << ' ' << im.y << ' ';
  write_grid(out, im);
}

int run_search() {
  Budget budget;
  std::cin >> budget.seconds >> budget.max_depth >> budget.max_states;
  int n_train, n_test;
  std::cin >> n_train;
  std::vector<Pair> train(n_train);
  for (auto &p : train) {
    p.input = read_grid(std::cin);
    p.output = read_grid(std::cin);
  }
  std::cin >> n_test;
  Images tests(n_test);
  for (auto &t : tests) t = read_grid(std::cin);
  if (!std::cin) {
    std::cerr << "arc24-search: the task could not be read\n";
    return 2;
  }
  for (int i = 0; i < n_test; ++i) {
    SearchReport r = search_one(train, tests[i], budget);
    std::cout << "test " << i << ' ' << r.status << ' ' << r.states << ' ' << r.depth << ' ' << r.pieces << ' '
              << r.out_h << ' ' << r.out_w << ' ' << r.candidates.size() << ' ' << r.seconds[0] << ' ' << r.seconds[1]
              << ' ' << r.seconds[2] << '\n';
    for (const Candidate &c : r.candidates) {
      std::cout << "candidate " << c.goods << ' ' << c.depth << ' ' << c.pieces << ' ' << c.score << '\n';
      write_grid(std::cout, c.answer);
      std::cout << c.program << '\n';
    }
    std::cout.flush();
  }
  return 0;
}

// Each request: a name line, then "list n" (list 0: one image, 1: a list of n), the sprites, and
// for a Canvas function "h w" of its canvas. Each reply: "ok list n" and the sprites (ok 0: failed).
int run_apply() {
  std::unordered_map<std::string, const Function *> by_name;
  for (const Function &f : vocabulary()) by_name[f.name] = &f;
  int requests;
  std::cin >> requests;
  for (int q = 0; q < requests; ++q) {
    std::string name;
    std::cin >> std::ws;
    std::getline(std::cin, name);
    int is_list, n;
    std::cin >> is_list >> n;
    Images in(n);
    for (auto &im : in) im = read_sprite(std::cin);
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      std::cerr << "arc24-search: no function named " << name << '\n';
      return 2;
    }
    const Function &f = *it->second;
    Images out;
    bool list_out = false;
    switch (f.kind) {
      case Kind::Unary: out = {f.unary(in[0])}; break;
      case Kind::Canvas: {
        int h, w;
        std::cin >> h >> w;
        out = {f.canvas(in[0], Image(w, h))};
        break;
      }
      case Kind::Split: out = f.split(in[0]); list_out = true; break;
      case Kind::Join: out = {f.join(in)}; break;
      case Kind::Filter: out = f.filter(in); list_out = true; break;
    }
    bool ok = !out.empty() && !(out.size() == 1 && !list_out && out[0].empty());
    for (const Image &im : out) ok &= !im.empty();
    if (!ok) {
      std::cout << "0 0 0\n";
      continue;
    }
    std::cout << "1 " << int(list_out) << ' ' << out.size() << '\n';
    for (const Image &im : out) write_sprite(std::cout, im);
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // a search outlives no killed worker
  std::ios::sync_with_stdio(false);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "search") return run_search();
  if (mode == "apply") return run_apply();
  if (mode == "names") {
    for (const Function &f : vocabulary()) std::cout << f.name << '\n';
    return 0;
  }
  std::cerr << "usage: arc24-search search|apply|names (stdin: see arc24/programs/native.py)\n";
  return 2;
}

// The compiled program search: compositions of the vocabulary, breadth-first, deduplicated by
// what they make; the output then stacked from the pieces that agree with the train outputs.
#pragma once
#include <string>
#include <vector>

#include "image.hpp"

struct Pair {
  Image input, output;
};

struct Budget {
  double seconds = 2.0;     // CPU seconds for one test input: the search, then the stacker
  int max_depth = 3;        // functions composed before the output adapters
  long max_states = 400000; // distinct states kept: the memory bound
};

struct Candidate {
  Image answer;
  int goods = 0;       // train outputs it reproduces
  int depth = 0;       // its deepest piece's depth (adapters included)
  int pieces = 0;      // pieces stacked
  double score = 0;    // goods, then shallower, then fewer pieces
  std::string program;
};

struct SearchReport {
  std::string status = "done";  // done | time | states
  long states = 0;
  int depth = 0;                // the deepest level expanded in full or in part
  long pieces = 0;
  int out_h = 0, out_w = 0;     // the predicted test output size (0: none)
  double seconds[3] = {0, 0, 0};  // CPU seconds making the states, the pieces, and stacking
  std::vector<Candidate> candidates;  // best first, distinct answers
};

SearchReport search_one(const std::vector<Pair> &train, const Image &test_input, const Budget &budget);

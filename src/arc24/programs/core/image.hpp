// Images on a plane, and lists of them: the values of the compiled program search.
//
// An image is a sprite: a w x h block of colours 0-9 whose top-left cell sits at (x, y) on an
// unbounded plane (x is the column, y the row; either may be negative). The position is what lets
// a crop be pasted back where it came from, so "cut into objects, change one, put them back"
// composes from general steps. Colour 0 is empty: most functions treat it as transparent.
// A function that cannot apply returns the empty image (w = h = 0), a dead branch.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

struct Image {
  int x = 0, y = 0, w = 0, h = 0;
  std::vector<uint8_t> px;  // row-major, h * w

  Image() = default;
  Image(int w_, int h_, uint8_t fill = 0, int x_ = 0, int y_ = 0) : x(x_), y(y_), w(w_), h(h_), px(size_t(w_) * h_, fill) {}
  uint8_t operator()(int r, int c) const { return px[size_t(r) * w + c]; }
  uint8_t &operator()(int r, int c) { return px[size_t(r) * w + c]; }
  bool empty() const { return w <= 0 || h <= 0; }
  int area() const { return w * h; }
  bool operator==(const Image &o) const { return x == o.x && y == o.y && w == o.w && h == o.h && px == o.px; }
};

using Images = std::vector<Image>;

inline Image bad() { return Image(); }

// One step of the image hashes: V mixed into H (multiplicative, not cryptographic).
inline void mix_into(uint64_t &h, uint64_t v) { h = (h ^ v) * 1099511628211ULL; h ^= h >> 29; }

// 64-bit hash of N cells, 8 cells a step, continuing from H.
inline uint64_t hash_cells(const uint8_t *cells, size_t n, uint64_t h = 1469598103934665603ULL) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, cells + i, 8);  // the 8 cells little-endian, as x86 loads them
    mix_into(h, v);
  }
  uint64_t v = 0;
  for (int k = 0; i < n; ++i, ++k) v |= uint64_t(cells[i]) << (8 * k);
  mix_into(h, v ^ 0x9e3779b97f4a7c15ULL);
  return h;
}

// 64-bit hash of position, size and cells.
inline uint64_t hash_image(const Image &im) {
  uint64_t h = 1469598103934665603ULL;
  mix_into(h, uint64_t(uint32_t(im.x)) << 32 | uint32_t(im.y));
  mix_into(h, uint64_t(uint32_t(im.w)) << 32 | uint32_t(im.h));
  return hash_cells(im.px.data(), im.px.size(), h);
}

// Cells per colour.
inline std::array<int, 10> colour_counts(const Image &im) {
  std::array<int, 10> n{};
  for (uint8_t c : im.px) n[c]++;
  return n;
}

// The most frequent non-zero colour (0 only where there is none); ties go to the smaller colour.
inline int majority_colour(const Image &im) {
  auto n = colour_counts(im);
  int best = 0;
  for (int c = 1; c < 10; ++c)
    if (n[c] > 0 && (best == 0 || n[c] > n[best])) best = c;
  return best;
}

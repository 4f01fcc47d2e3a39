// The vocabulary of the compiled search (see functions.hpp). Each function's meaning is stated
// once, in its readable reference src/arc24/programs/image_functions.py (same names); the
// comments here say only what that file does not (how it is computed).
//
// Shared conventions, applied by the entry wrappers in vocabulary():
//   - an empty input image, an input side over MAX_SIDE, or an empty input list fails;
//   - a result with a side over MAX_SIDE fails (so every buffer here holds MAX_SIDE^2 cells);
//   - "maj" is majority_colour (image.hpp), computed by maj() below.
// Plain loops, fixed-size scratch buffers on the stack, no exceptions; the result is the only
// allocation of most functions.
#include "functions.hpp"

#include <cstring>

namespace {

constexpr int MAX_SIDE = 60;
constexpr int MAX_AREA = MAX_SIDE * MAX_SIDE;
constexpr int MAX_COUNT = 30;

using Cell = int16_t;  // a cell index, plain (r * w + c) or padded (see PAD_AREA); both fit

inline bool bad_size(const Image &im) { return im.w <= 0 || im.h <= 0 || im.w > MAX_SIDE || im.h > MAX_SIDE; }

inline int count_nonzero(const Image &im) {
  int n = 0;
  for (uint8_t v : im.px) n += v != 0;
  return n;
}

inline int colour_mask(const Image &im) {
  int m = 0;
  for (uint8_t v : im.px) m |= 1 << v;
  return m & ~1;
}

// majority_colour (image.hpp) with four interleaved histograms: a run of equal colours does not
// serialise the increments. Same result: the most frequent non-zero colour, ties to the smaller.
inline int maj(const Image &im) {
  int n[4][10] = {};
  const uint8_t *px = im.px.data();
  const size_t size = im.px.size();
  size_t i = 0;
  for (; i + 4 <= size; i += 4) n[0][px[i]]++, n[1][px[i + 1]]++, n[2][px[i + 2]]++, n[3][px[i + 3]]++;
  for (; i < size; ++i) n[0][px[i]]++;
  int best = 0, best_n = 0;
  for (int c = 1; c < 10; ++c) {
    const int k = n[0][c] + n[1][c] + n[2][c] + n[3][c];
    if (k > best_n) best = c, best_n = k;
  }
  return best;
}

inline int popcount(int m) { return __builtin_popcount(unsigned(m)); }

inline bool has_colour(const Image &im, int c) {
  for (uint8_t v : im.px)
    if (v == c) return true;
  return false;
}

const int DR8[8] = {-1, -1, -1, 0, 0, 1, 1, 1}, DC8[8] = {-1, 0, 1, -1, 1, -1, 0, 1};

// The padded layout: the image inside a one-cell ring, stride W = w + 2, so that every cell of the
// image has all 8 neighbours in the buffer; cell (r, c) is at (r + 1) * W + c + 1.
constexpr int PAD_AREA = (MAX_SIDE + 2) * (MAX_SIDE + 2);

inline int padded(const Image &im, int r, int c) { return (r + 1) * (im.w + 2) + c + 1; }

// key[p] = f(colour) inside, 0 on the ring.
template <class F>
void padded_key(const Image &im, uint8_t *key, F f) {
  const int W = im.w + 2;
  std::memset(key, 0, size_t(W) * (im.h + 2));
  for (int r = 0; r < im.h; ++r) {
    uint8_t *dst = key + (r + 1) * W + 1;
    const uint8_t *src = &im.px[size_t(r) * im.w];
    for (int c = 0; c < im.w; ++c) dst[c] = f(src[c]);
  }
}

// Connected components over a padded key: neighbouring cells (4 or 8) join when their keys are
// equal and non-zero. lab[p] (padded) = the component's id, in the row-major order of each
// component's first cell, or -1. Returns the number of components.
int label_components(const Image &im, const uint8_t *key, int conn, Cell *lab) {
  const int W = im.w + 2, n = W * (im.h + 2);
  const int off[8] = {-W, -1, 1, W, -W - 1, -W + 1, W - 1, W + 1};
  Cell todo[PAD_AREA];
  std::fill(lab, lab + n, Cell(-1));
  int id = 0;
  for (int r = 0; r < im.h; ++r)
    for (int s = (r + 1) * W + 1, e = s + im.w; s < e; ++s) {
      if (!key[s] || lab[s] >= 0) continue;
      const uint8_t k = key[s];
      int top = 0;
      todo[top++] = Cell(s);
      lab[s] = Cell(id);
      while (top) {
        const int p = todo[--top];
        for (int d = 0; d < conn; ++d) {
          const int q = p + off[d];
          if (key[q] == k && lab[q] < 0) lab[q] = Cell(id), todo[top++] = Cell(q);
        }
      }
      ++id;
    }
  return id;
}

int count_objects(const Image &im) {
  uint8_t key[PAD_AREA];
  Cell lab[PAD_AREA];
  padded_key(im, key, [](uint8_t v) { return uint8_t(v != 0); });
  return label_components(im, key, 8, lab);
}

// o[p] (padded): OUT for the ring and the zero cells 4-connected to it through zero cells (the
// outside), HOLE for the other zero cells, SOLID for the non-zero cells.
enum : uint8_t { HOLE = 0, OUT = 1, SOLID = 2 };
void outside_zeros(const Image &im, uint8_t *o) {
  const int w = im.w, h = im.h, W = w + 2;
  const int off[4] = {-W, -1, 1, W};
  Cell todo[PAD_AREA];
  int top = 0;
  std::memset(o, OUT, size_t(W) * (h + 2));
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      const int p = (r + 1) * W + c + 1;
      const bool edge = r == 0 || c == 0 || r == h - 1 || c == w - 1;
      o[p] = im.px[size_t(r) * w + c] ? SOLID : edge ? OUT : HOLE;
      if (o[p] == OUT) todo[top++] = Cell(p);
    }
  while (top) {
    const int p = todo[--top];
    for (int d = 0; d < 4; ++d)
      if (o[p + off[d]] == HOLE) o[p + off[d]] = OUT, todo[top++] = Cell(p + off[d]);
  }
}

int count_holes(const Image &im) {
  uint8_t o[PAD_AREA];
  outside_zeros(im, o);
  const int n = (im.w + 2) * (im.h + 2);
  int k = 0;
  for (int p = 0; p < n; ++p) k += o[p] == HOLE;
  return k;
}

// touch[i] (unpadded) = 1 where one of the cell's 8 neighbours is off the image or outside.
void touches_outside(const Image &im, uint8_t *touch) {
  uint8_t o[PAD_AREA];
  outside_zeros(im, o);
  const int W = im.w + 2;
  const int off[8] = {-W - 1, -W, -W + 1, -1, 1, W - 1, W, W + 1};
  for (int r = 0; r < im.h; ++r)
    for (int c = 0; c < im.w; ++c) {
      const int p = (r + 1) * W + c + 1;
      uint8_t t = 0;
      for (int d = 0; d < 8; ++d) t |= o[p + off[d]] == OUT;
      touch[r * im.w + c] = t;
    }
}

// The labelled components as pieces (their cells, others 0, cropped to their box, positioned),
// in reading order: stable by (y, x, maj) over the label order.
Images pieces(const Image &im, const Cell *lab, int count) {
  const int w = im.w, h = im.h;
  std::vector<int> box(size_t(count) * 4);  // r0, c0, r1, c1 (inclusive)
  for (int k = 0; k < count; ++k) box[4 * k] = box[4 * k + 1] = MAX_SIDE, box[4 * k + 2] = box[4 * k + 3] = -1;
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      const int k = lab[padded(im, r, c)];
      if (k < 0) continue;
      int *b = &box[4 * k];
      b[0] = std::min(b[0], r), b[1] = std::min(b[1], c), b[2] = std::max(b[2], r), b[3] = std::max(b[3], c);
    }
  Images found(count);
  std::vector<int> colour(count);
  for (int k = 0; k < count; ++k) {
    const int *b = &box[4 * k];
    Image p(b[3] - b[1] + 1, b[2] - b[0] + 1, 0, im.x + b[1], im.y + b[0]);
    for (int r = b[0]; r <= b[2]; ++r)
      for (int c = b[1]; c <= b[3]; ++c)
        if (lab[padded(im, r, c)] == k) p(r - b[0], c - b[1]) = im(r, c);
    colour[k] = maj(p);
    found[k] = std::move(p);
  }
  std::vector<int> order(count);
  for (int k = 0; k < count; ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (found[a].y != found[b].y) return found[a].y < found[b].y;
    if (found[a].x != found[b].x) return found[a].x < found[b].x;
    return colour[a] < colour[b];
  });
  Images sorted;
  sorted.reserve(count);
  for (int k : order) sorted.push_back(std::move(found[k]));
  return sorted;
}

// ---------------------------------------------------------------- unary: colours and crops

Image filter_colour(const Image &im, int c) {
  if (!has_colour(im, c)) return bad();
  Image out(im.w, im.h, 0, im.x, im.y);
  for (size_t i = 0; i < im.px.size(); ++i) out.px[i] = im.px[i] == c ? uint8_t(c) : 0;
  return out;
}

Image erase_colour(const Image &im, int c) {
  if (!has_colour(im, c)) return bad();
  Image out = im;
  for (uint8_t &v : out.px)
    if (v == c) v = 0;
  return out;
}

// row[r] / col[c] = 1 where row r / column c has a non-zero cell.
void line_flags(const Image &im, uint8_t *row, uint8_t *col) {
  std::memset(col, 0, im.w);
  for (int r = 0; r < im.h; ++r) {
    const uint8_t *src = &im.px[size_t(r) * im.w];
    uint8_t any = 0;
    for (int c = 0; c < im.w; ++c) any |= src[c], col[c] |= src[c];
    row[r] = any != 0;
  }
  for (int c = 0; c < im.w; ++c) col[c] = col[c] != 0;
}

Image crop(const Image &im) {
  uint8_t row[MAX_SIDE], col[MAX_SIDE];
  line_flags(im, row, col);
  int r0 = 0, r1 = im.h - 1, c0 = 0, c1 = im.w - 1;
  while (r0 < im.h && !row[r0]) ++r0;
  if (r0 == im.h) return bad();
  while (!row[r1]) --r1;
  while (!col[c0]) ++c0;
  while (!col[c1]) --c1;
  Image out(c1 - c0 + 1, r1 - r0 + 1, 0, im.x + c0, im.y + r0);
  for (int r = r0; r <= r1; ++r) std::memcpy(&out.px[size_t(r - r0) * out.w], &im.px[size_t(r) * im.w + c0], out.w);
  return out;
}

// ---------------------------------------------------------------- unary: shapes, holes, borders

Image fill_holes(const Image &im) {
  uint8_t o[PAD_AREA];
  outside_zeros(im, o);
  const uint8_t m = uint8_t(maj(im));
  Image res(im.w, im.h, 0, im.x, im.y);
  for (int r = 0; r < im.h; ++r)
    for (int c = 0; c < im.w; ++c) res(r, c) = o[padded(im, r, c)] == OUT ? 0 : m;
  return res;
}

Image holes(const Image &im) {
  uint8_t o[PAD_AREA];
  outside_zeros(im, o);
  const uint8_t m = uint8_t(maj(im));
  Image res(im.w, im.h, 0, im.x, im.y);
  bool any = false;
  for (int r = 0; r < im.h; ++r)
    for (int c = 0; c < im.w; ++c)
      if (o[padded(im, r, c)] == HOLE) res(r, c) = m, any = true;
  return any ? res : bad();
}

Image border_or_inner(const Image &im, bool border) {
  uint8_t touch[MAX_AREA];
  touches_outside(im, touch);
  Image res(im.w, im.h, 0, im.x, im.y);
  bool any = false;
  for (int i = 0; i < im.area(); ++i)
    if (im.px[i] && bool(touch[i]) == border) res.px[i] = im.px[i], any = true;
  return any ? res : bad();
}

Image outline(const Image &im) {
  const int w = im.w, h = im.h;
  Image res(w, h, 0, im.x, im.y);
  bool any = false;
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      if (im(r, c)) continue;
      for (int k = 0; k < 8; ++k) {
        const int nr = r + DR8[k], nc = c + DC8[k];
        if (nr >= 0 && nr < h && nc >= 0 && nc < w && im(nr, nc)) {
          res(r, c) = 1, any = true;
          break;
        }
      }
    }
  return any ? res : bad();
}

// ---------------------------------------------------------------- unary: rigid motions (position kept)

// out(r, c) = im(src(r, c)); the result is w x h, or h x w when swap.
template <class Src>
Image remap(const Image &im, bool swap, Src src) {
  const int ow = swap ? im.h : im.w, oh = swap ? im.w : im.h;
  Image out(ow, oh, 0, im.x, im.y);
  for (int r = 0; r < oh; ++r)
    for (int c = 0; c < ow; ++c) {
      int sr, sc;
      src(r, c, sr, sc);
      out(r, c) = im(sr, sc);
    }
  return out;
}

Image rot90(const Image &im) {  // anticlockwise
  const int w = im.w;
  return remap(im, true, [&](int r, int c, int &sr, int &sc) { sr = c, sc = w - 1 - r; });
}
Image rot180(const Image &im) {
  Image out = im;
  std::reverse(out.px.begin(), out.px.end());
  return out;
}
Image rot270(const Image &im) {  // clockwise
  const int h = im.h;
  return remap(im, true, [&](int r, int c, int &sr, int &sc) { sr = h - 1 - c, sc = r; });
}
Image flip_x(const Image &im) {
  Image out = im;
  for (int r = 0; r < im.h; ++r) std::reverse(out.px.begin() + size_t(r) * im.w, out.px.begin() + size_t(r + 1) * im.w);
  return out;
}
Image flip_y(const Image &im) {
  Image out(im.w, im.h, 0, im.x, im.y);
  for (int r = 0; r < im.h; ++r) std::memcpy(&out.px[size_t(r) * im.w], &im.px[size_t(im.h - 1 - r) * im.w], im.w);
  return out;
}
Image transpose(const Image &im) {
  return remap(im, true, [&](int r, int c, int &sr, int &sc) { sr = c, sc = r; });
}
Image antitranspose(const Image &im) {
  const int w = im.w, h = im.h;
  return remap(im, true, [&](int r, int c, int &sr, int &sc) { sr = h - 1 - c, sc = w - 1 - r; });
}

// ---------------------------------------------------------------- unary: colour, counts, boxes

Image majority_cell(const Image &im) {
  const int m = maj(im);
  return m ? Image(1, 1, uint8_t(m)) : bad();
}

// what: 0 cells, 1 colours, 2 objects; shape: 0 square, 1 row, 2 column.
Image count(const Image &im, int what, int shape) {
  const int n = what == 0 ? count_nonzero(im) : what == 1 ? popcount(colour_mask(im)) : count_objects(im);
  if (n == 0 || n > MAX_COUNT) return bad();
  const uint8_t m = uint8_t(maj(im));
  if (shape == 0) return Image(n, n, m);
  if (shape == 1) return Image(n, 1, m);
  return Image(1, n, m);
}

Image centre(const Image &im) {
  return Image(2 - im.w % 2, 2 - im.h % 2, 1, im.x + (im.w - 1) / 2, im.y + (im.h - 1) / 2);
}

// Figure and ground swapped: 0 cells take the smallest colour present (1 if none), the rest become 0.
Image invert(const Image &im) {
  auto n = colour_counts(im);
  uint8_t k = 1;
  for (int c = 9; c >= 1; --c)
    if (n[c]) k = uint8_t(c);
  Image out(im.w, im.h, 0, im.x, im.y);
  for (size_t i = 0; i < im.px.size(); ++i) out.px[i] = im.px[i] ? 0 : k;
  return out;
}

// Mirrored across the axis the non-zero cells lie further off: rows flipped when their mass is further
// from the middle row than from the middle column, else columns.
Image flip_off_centre(const Image &im) {
  long n = 0, rows = 0, cols = 0;
  for (int r = 0; r < im.h; ++r)
    for (int c = 0; c < im.w; ++c)
      if (im(r, c)) ++n, rows += r, cols += c;
  const long off_columns = std::labs(2 * cols - long(im.w - 1) * n), off_rows = std::labs(2 * rows - long(im.h - 1) * n);
  return off_columns < off_rows ? flip_y(im) : flip_x(im);
}

// ---------------------------------------------------------------- unary: smear

// Directions of travel (row step, column step), in the tie-breaking order R, L, D, U, DR, DL, UR, UL.
const int SDR[8] = {0, 0, 1, -1, 1, 1, -1, -1}, SDC[8] = {1, -1, 0, 0, 1, -1, 1, -1};

// For each direction, walk every line of cells along it from the edge, carrying the last source
// colour and the steps since; a zero cell keeps the nearest source over all directions, the
// earlier direction on a tie (strict <).
Image smear(const Image &im, int dirs) {
  const int w = im.w, h = im.h;
  Image out = im;
  uint8_t best[MAX_AREA];
  std::memset(best, 255, size_t(w) * h);
  for (int d = 0; d < 8; ++d) {
    if (!(dirs >> d & 1)) continue;
    const int dr = SDR[d], dc = SDC[d], step = dr * w + dc;
    auto walk = [&](int r, int c) {
      int n = 1 << 30;  // cells on the line from (r, c)
      if (dr) n = std::min(n, dr > 0 ? h - r : r + 1);
      if (dc) n = std::min(n, dc > 0 ? w - c : c + 1);
      uint8_t k = 0, dist = 0;
      for (int i = r * w + c; n--; i += step) {
        const uint8_t v = im.px[i];
        if (v) {
          k = v, dist = 0;
          continue;
        }
        ++dist;
        if (k && dist < best[i]) best[i] = dist, out.px[i] = k;
      }
    };
    // The lines start where one step back leaves the image: the first row and/or column met.
    if (dr)
      for (int c = 0; c < w; ++c) walk(dr > 0 ? 0 : h - 1, c);
    if (dc)
      for (int r = 0; r < h; ++r)
        if (!dr || r != (dr > 0 ? 0 : h - 1)) walk(r, dc > 0 ? 0 : w - 1);
  }
  return out;
}

// ---------------------------------------------------------------- unary: frames and lines

Image pad(const Image &im, bool with_maj) {
  Image out(im.w + 2, im.h + 2, uint8_t(with_maj ? maj(im) : 1), im.x - 1, im.y - 1);
  for (int r = 0; r < im.h; ++r) std::memcpy(&out.px[size_t(r + 1) * out.w + 1], &im.px[size_t(r) * im.w], im.w);
  return out;
}

Image remove_empty_lines(const Image &im) {
  const int w = im.w, h = im.h;
  uint8_t row[MAX_SIDE], col[MAX_SIDE];
  line_flags(im, row, col);
  int nr = 0, nc = 0, r0 = -1, c0 = -1;
  for (int r = 0; r < h; ++r)
    if (row[r]) nr++, r0 = r0 < 0 ? r : r0;
  for (int c = 0; c < w; ++c)
    if (col[c]) nc++, c0 = c0 < 0 ? c : c0;
  if (!nr) return bad();
  Image out(nc, nr, 0, im.x + c0, im.y + r0);
  int i = 0;
  for (int r = 0; r < h; ++r)
    if (row[r])
      for (int c = 0; c < w; ++c)
        if (col[c]) out.px[i++] = im(r, c);
  return out;
}

Image dedupe_lines(const Image &im) {
  const int w = im.w, h = im.h;
  int rows[MAX_SIDE], cols[MAX_SIDE], nr = 0, nc = 0;
  for (int r = 0; r < h; ++r)
    if (r == 0 || std::memcmp(&im.px[size_t(r) * w], &im.px[size_t(r - 1) * w], w) != 0) rows[nr++] = r;
  for (int c = 0; c < w; ++c) {
    bool same = c > 0;
    for (int k = 0; k < nr && same; ++k) same = im(rows[k], c) == im(rows[k], c - 1);
    if (!same) cols[nc++] = c;
  }
  Image out(nc, nr, 0, im.x, im.y);
  for (int i = 0; i < nr; ++i)
    for (int j = 0; j < nc; ++j) out(i, j) = im(rows[i], cols[j]);
  return out;
}

// horizontal / vertical: the segments between consecutive same-coloured non-zero cells of the
// original; vertical ones paint only cells still 0 (horizontal wins a crossing).
Image connect(const Image &im, bool horizontal, bool vertical) {
  const int w = im.w, h = im.h;
  Image out = im;
  if (horizontal)
    for (int r = 0; r < h; ++r) {
      int last = -1;
      for (int c = 0; c < w; ++c) {
        const uint8_t v = im(r, c);
        if (!v) continue;
        if (last >= 0 && im(r, last) == v)
          for (int k = last + 1; k < c; ++k) out(r, k) = v;
        last = c;
      }
    }
  if (vertical)
    for (int c = 0; c < w; ++c) {
      int last = -1;
      for (int r = 0; r < h; ++r) {
        const uint8_t v = im(r, c);
        if (!v) continue;
        if (last >= 0 && im(last, c) == v)
          for (int k = last + 1; k < r; ++k)
            if (!out(k, c)) out(k, c) = v;
        last = r;
      }
    }
  return out;
}

// Breadth-first from the sources in row-major order: a zero cell takes its colour when first
// reached, and the smaller colour from any later neighbour at the same distance.
Image spread(const Image &im, bool but_maj) {
  const int w = im.w, h = im.h, W = w + 2, n = W * (h + 2);
  const int off[4] = {-W, -1, 1, W};
  const int m = maj(im);
  int16_t dist[PAD_AREA];  // -1: a zero cell not reached yet; 0: a non-zero cell or the ring
  uint8_t col[PAD_AREA];
  Cell queue[PAD_AREA];
  int head = 0, tail = 0;
  std::fill(dist, dist + n, int16_t(0));
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      const int p = (r + 1) * W + c + 1;
      const uint8_t v = im(r, c);
      col[p] = v, dist[p] = v ? 0 : -1;
      if (v && !(but_maj && v == m)) queue[tail++] = Cell(p);
    }
  while (head < tail) {
    const int p = queue[head++], d = dist[p] + 1;
    for (int k = 0; k < 4; ++k) {
      const int q = p + off[k];
      if (dist[q] < 0)
        dist[q] = int16_t(d), col[q] = col[p], queue[tail++] = Cell(q);
      else if (dist[q] == d && col[p] < col[q])
        col[q] = col[p];
    }
  }
  Image out(w, h, 0, im.x, im.y);
  for (int r = 0; r < h; ++r) std::memcpy(&out.px[size_t(r) * w], col + (r + 1) * W + 1, w);
  return out;
}

// side: 0 left, 1 right, 2 top, 3 bottom.
Image half(const Image &im, int side) {
  const int w = im.w, h = im.h;
  const int k = (side < 2 ? w : h) / 2;
  if (k == 0) return bad();
  const int c0 = side == 1 ? w - k : 0, r0 = side == 3 ? h - k : 0;
  const int ow = side < 2 ? k : w, oh = side < 2 ? h : k;
  Image out(ow, oh, 0, im.x + c0, im.y + r0);
  for (int r = 0; r < oh; ++r) std::memcpy(&out.px[size_t(r) * ow], &im.px[size_t(r + r0) * w + c0], ow);
  return out;
}

// ---------------------------------------------------------------- canvas (results at the origin, the canvas's size)

Image wrap(const Image &im, const Image &canvas) {
  const int n = im.area();
  if (n > canvas.area()) return bad();
  Image out(canvas.w, canvas.h);
  std::memcpy(out.px.data(), im.px.data(), n);
  return out;
}

// Source index range [lo, lo + len) of output index i along an axis of length n scaled to size;
// false when neither divides the other.
bool axis_scale(int n, int size, bool &up, int &f) {
  if (size % n == 0) return up = true, f = size / n, true;
  if (n % size == 0) return up = false, f = n / size, true;
  return false;
}

Image scale_to(const Image &im, const Image &canvas) {
  bool up_r, up_c;
  int fr, fc;
  if (!axis_scale(im.h, canvas.h, up_r, fr) || !axis_scale(im.w, canvas.w, up_c, fc)) return bad();
  Image out(canvas.w, canvas.h);
  for (int i = 0; i < canvas.h; ++i) {
    const int r0 = up_r ? i / fr : i * fr, r1 = up_r ? r0 + 1 : r0 + fr;
    for (int j = 0; j < canvas.w; ++j) {
      const int c0 = up_c ? j / fc : j * fc, c1 = up_c ? c0 + 1 : c0 + fc;
      const uint8_t v = im(r0, c0);
      for (int r = r0; r < r1; ++r)
        for (int c = c0; c < c1; ++c)
          if (im(r, c) != v) return bad();
      out(i, j) = v;
    }
  }
  return out;
}

// Rescale by area: a whole-block downscale keeps each block's most frequent non-zero colour; any other
// ratio gives each canvas cell the colour (0 included) covering most of the image rectangle under it.
// Ties go to the smaller colour.
Image resample(const Image &im, const Image &canvas) {
  const int H = canvas.h, W = canvas.w;
  Image out(W, H);
  const bool blocks = im.h % H == 0 && im.w % W == 0;
  for (int i = 0; i < H; ++i) {
    // Cell i covers [i*h, (i+1)*h) in units where image row r is [r*H, (r+1)*H); the same across.
    const int lo_r = i * im.h, hi_r = (i + 1) * im.h;
    for (int j = 0; j < W; ++j) {
      const int lo_c = j * im.w, hi_c = (j + 1) * im.w;
      long area[10] = {0};
      for (int r = lo_r / H; r * H < hi_r; ++r) {
        const long a = std::min(hi_r, (r + 1) * H) - std::max(lo_r, r * H);
        for (int c = lo_c / W; c * W < hi_c; ++c) area[im(r, c)] += a * (std::min(hi_c, (c + 1) * W) - std::max(lo_c, c * W));
      }
      if (blocks) area[0] = 0;
      int best = 0;
      for (int k = 1; k < 10; ++k)
        if (area[k] > area[best]) best = k;
      out(i, j) = uint8_t(area[best] > 0 ? best : 0);
    }
  }
  return out;
}

// Floor division and its non-negative remainder (tiles anchored left or above the origin).
inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

Image tiling(const Image &im, const Image &canvas, int gap, bool mirror, bool anchored = false) {
  const int pw = im.w + gap, ph = im.h + gap;
  const int dy = anchored ? im.y : 0, dx = anchored ? im.x : 0;
  Image out(canvas.w, canvas.h);
  for (int R = 0; R < canvas.h; ++R) {
    const int j = floor_div(R - dy, ph);
    int r = R - dy - j * ph;
    if (r >= im.h) continue;
    if (mirror && (j & 1)) r = im.h - 1 - r;
    for (int C = 0; C < canvas.w; ++C) {
      const int i = floor_div(C - dx, pw);
      int c = C - dx - i * pw;
      if (c >= im.w) continue;
      if (mirror && (i & 1)) c = im.w - 1 - c;
      out(R, C) = im(r, c);
    }
  }
  return out;
}

// ---------------------------------------------------------------- split (image -> list)

Images cut(const Image &im) {
  const int w = im.w, h = im.h, n = (w + 2) * (h + 2);
  uint8_t key[PAD_AREA];
  Cell lab[PAD_AREA];
  int best_colour = 0, best_small = -1;
  for (int col = 1; col < 10; ++col) {
    bool top = false, bottom = false, left = false, right = false;
    for (int c = 0; c < w; ++c) top |= im(0, c) == col, bottom |= im(h - 1, c) == col;
    for (int r = 0; r < h; ++r) left |= im(r, 0) == col, right |= im(r, w - 1) == col;
    if (!((top && bottom) || (left && right))) continue;
    padded_key(im, key, [col](uint8_t v) { return uint8_t(v != col); });
    const int k = label_components(im, key, 4, lab);
    if (k < 2) continue;
    int size[MAX_AREA];
    std::fill(size, size + k, 0);
    for (int p = 0; p < n; ++p)
      if (lab[p] >= 0) size[lab[p]]++;
    const int small = *std::min_element(size, size + k);
    if (small > best_small) best_small = small, best_colour = col;
  }
  if (!best_colour) return {};
  padded_key(im, key, [best_colour](uint8_t v) { return uint8_t(v != best_colour); });
  const int k = label_components(im, key, 4, lab);
  return pieces(im, lab, k);
}

Images split_colours(const Image &im) {
  const int mask = colour_mask(im);
  Images out;
  for (int c = 1; c < 10; ++c)
    if (mask >> c & 1) out.push_back(filter_colour(im, c));
  return out;
}

Images objects(const Image &im, bool multicolour) {
  uint8_t key[PAD_AREA];
  Cell lab[PAD_AREA];
  if (multicolour)
    padded_key(im, key, [](uint8_t v) { return uint8_t(v != 0); });
  else
    padded_key(im, key, [](uint8_t v) { return v; });
  const int k = label_components(im, key, multicolour ? 8 : 4, lab);
  return pieces(im, lab, k);
}

// The objects (4-connected, one colour each) slid one after another towards a side of the image, the
// nearest to that side first, each until it would leave the image or touch a cell already settled.
Images gravity(const Image &im, int dx, int dy) {
  Images objs = objects(im, false);
  if (objs.empty()) return {};
  std::vector<int> order(objs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  auto lead = [&](const Image &o) {  // how far the object reaches towards the side
    return dx > 0 ? o.x + o.w : dx < 0 ? -o.x : dy > 0 ? o.y + o.h : -o.y;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return lead(objs[a]) > lead(objs[b]); });
  std::vector<uint8_t> taken(size_t(im.w) * im.h, 0);
  auto fits = [&](const Image &o, int x0, int y0) {
    for (int r = 0; r < o.h; ++r)
      for (int c = 0; c < o.w; ++c) {
        if (!o(r, c)) continue;
        const int x = x0 + c - im.x, y = y0 + r - im.y;
        if (x < 0 || y < 0 || x >= im.w || y >= im.h || taken[size_t(y) * im.w + x]) return false;
      }
    return true;
  };
  for (int i : order) {
    Image &o = objs[i];
    while (fits(o, o.x + dx, o.y + dy)) o.x += dx, o.y += dy;
    for (int r = 0; r < o.h; ++r)
      for (int c = 0; c < o.w; ++c)
        if (o(r, c)) taken[size_t(o.y + r - im.y) * im.w + (o.x + c - im.x)] = 1;
  }
  return objs;
}

Images columns(const Image &im) {
  Images out(im.w);
  for (int c = 0; c < im.w; ++c) {
    Image p(1, im.h, 0, im.x + c, im.y);
    for (int r = 0; r < im.h; ++r) p.px[r] = im(r, c);
    out[c] = std::move(p);
  }
  return out;
}

Images rows(const Image &im) {
  Images out(im.h);
  for (int r = 0; r < im.h; ++r) {
    Image p(im.w, 1, 0, im.x, im.y + r);
    std::memcpy(p.px.data(), &im.px[size_t(r) * im.w], im.w);
    out[r] = std::move(p);
  }
  return out;
}

// ---------------------------------------------------------------- join and filter

enum Crit { CELLS, AREA, COLOURS, Y, X, ZEROS, OBJECTS, HOLES, N_CRIT };
const char *const CRIT_NAMES[N_CRIT] = {"cells", "area", "colours", "y", "x", "zeros", "objects", "holes"};

int criterion(const Image &im, int crit) {
  switch (crit) {
    case CELLS: return count_nonzero(im);
    case AREA: return im.area();
    case COLOURS: return popcount(colour_mask(im));
    case Y: return im.y;
    case X: return im.x;
    case ZEROS: return im.area() - count_nonzero(im);
    case OBJECTS: return count_objects(im);
    default: return count_holes(im);
  }
}

Image pick(const Images &list, int crit, bool largest) {
  int best = 0, best_v = criterion(list[0], crit);
  for (int i = 1; i < int(list.size()); ++i) {
    const int v = criterion(list[i], crit);
    if (largest ? v > best_v : v < best_v) best = i, best_v = v;
  }
  return list[best];
}

Images keep(const Images &list, int crit, bool largest, bool drop) {
  const int n = int(list.size());
  std::vector<int> v(n);
  int target = 0;
  for (int i = 0; i < n; ++i) {
    v[i] = criterion(list[i], crit);
    if (i == 0 || (largest ? v[i] > target : v[i] < target)) target = v[i];
  }
  Images out;
  for (int i = 0; i < n; ++i)
    if ((v[i] == target) != drop) out.push_back(list[i]);
  return out;
}

Image pick_unique(const Images &list) {
  int seen[10] = {};
  std::vector<int> mask(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    mask[i] = colour_mask(list[i]);
    for (int c = 1; c < 10; ++c) seen[c] += mask[i] >> c & 1;
  }
  int only = -1;
  for (size_t i = 0; i < list.size(); ++i) {
    bool unique = false;
    for (int c = 1; c < 10; ++c) unique |= (mask[i] >> c & 1) && seen[c] == 1;
    if (!unique) continue;
    if (only >= 0) return bad();
    only = int(i);
  }
  return only >= 0 ? list[only] : bad();
}

// Side by side (equal heights) or one above the other (equal widths), in the given order, at the origin.
Image concat(const Images &list, const std::vector<int> &order, bool horizontal) {
  int w = 0, h = 0;
  for (int k : order) {
    const Image &e = list[k];
    if (horizontal) {
      if (h && e.h != h) return bad();
      h = e.h, w += e.w;
    } else {
      if (w && e.w != w) return bad();
      w = e.w, h += e.h;
    }
  }
  if (w > MAX_SIDE || h > MAX_SIDE) return bad();
  Image out(w, h);
  int at = 0;
  for (int k : order) {
    const Image &e = list[k];
    for (int r = 0; r < e.h; ++r)
      std::memcpy(horizontal ? &out.px[size_t(r) * w + at] : &out.px[size_t(at + r) * w], &e.px[size_t(r) * e.w], e.w);
    at += horizontal ? e.w : e.h;
  }
  return out;
}

Image stack_line(const Images &list) {
  int x0 = list[0].x, x1 = x0, y0 = list[0].y, y1 = y0;
  for (const Image &e : list) x0 = std::min(x0, e.x), x1 = std::max(x1, e.x), y0 = std::min(y0, e.y), y1 = std::max(y1, e.y);
  const bool horizontal = x1 - x0 >= y1 - y0;
  std::vector<int> order(list.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return horizontal ? list[a].x < list[b].x : list[a].y < list[b].y; });
  return concat(list, order, horizontal);
}

Image stack(const Images &list, bool horizontal) {
  std::vector<int> order(list.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return list[a].area() < list[b].area(); });
  return concat(list, order, horizontal);
}

// ---------------------------------------------------------------- entries

using UnaryFn = std::function<Image(const Image &)>;

Function unary_entry(std::string name, UnaryFn f) {
  Function e;
  e.name = std::move(name);
  e.kind = Kind::Unary;
  e.unary = [f = std::move(f)](const Image &im) {
    if (bad_size(im)) return bad();
    Image out = f(im);
    return bad_size(out) ? bad() : out;
  };
  return e;
}

Function canvas_entry(std::string name, std::function<Image(const Image &, const Image &)> f, int canvas_of) {
  Function e;
  e.name = std::move(name);
  e.kind = Kind::Canvas;
  e.canvas_of = canvas_of;
  e.canvas = [f = std::move(f)](const Image &im, const Image &canvas) {
    if (bad_size(im) || bad_size(canvas)) return bad();
    Image out = f(im, canvas);
    return bad_size(out) ? bad() : out;
  };
  return e;
}

bool bad_list(const Images &list) {
  if (list.empty()) return true;
  for (const Image &e : list)
    if (bad_size(e)) return true;
  return false;
}

Function split_entry(std::string name, std::function<Images(const Image &)> f) {
  Function e;
  e.name = std::move(name);
  e.kind = Kind::Split;
  e.split = [f = std::move(f)](const Image &im) {
    if (bad_size(im)) return Images();
    Images out = f(im);
    return bad_list(out) ? Images() : out;
  };
  return e;
}

Function join_entry(std::string name, std::function<Image(const Images &)> f) {
  Function e;
  e.name = std::move(name);
  e.kind = Kind::Join;
  e.join = [f = std::move(f)](const Images &list) {
    if (bad_list(list)) return bad();
    Image out = f(list);
    return bad_size(out) ? bad() : out;
  };
  return e;
}

Function filter_entry(std::string name, std::function<Images(const Images &)> f) {
  Function e;
  e.name = std::move(name);
  e.kind = Kind::Filter;
  e.filter = [f = std::move(f)](const Images &list) {
    if (bad_list(list)) return Images();
    Images out = f(list);
    return bad_list(out) ? Images() : out;
  };
  return e;
}

std::vector<Function> build_vocabulary() {
  std::vector<Function> v;
  auto un = [&](std::string name, UnaryFn f) { v.push_back(unary_entry(std::move(name), std::move(f))); };
  const std::string digit[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  for (int c = 1; c < 10; ++c) un("filter_colour(" + digit[c] + ")", [c](const Image &im) { return filter_colour(im, c); });
  for (int c = 1; c < 10; ++c) un("erase_colour(" + digit[c] + ")", [c](const Image &im) { return erase_colour(im, c); });
  un("crop", crop);
  un("to_origin", [](const Image &im) { return to_origin(im); });
  un("fill_holes", fill_holes);
  un("holes", holes);
  un("border_cells", [](const Image &im) { return border_or_inner(im, true); });
  un("inner_cells", [](const Image &im) { return border_or_inner(im, false); });
  un("rot90", rot90);
  un("rot180", rot180);
  un("rot270", rot270);
  un("flip_x", flip_x);
  un("flip_y", flip_y);
  un("transpose", transpose);
  un("antitranspose", antitranspose);
  un("majority_colour", majority_cell);
  un("invert", invert);
  un("flip_off_centre", flip_off_centre);
  const char *what[3] = {"cells", "colours", "objects"}, *shape[3] = {"square", "row", "column"};
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      un(std::string("count_") + what[a] + "_" + shape[b], [a, b](const Image &im) { return count(im, a, b); });
  // Bits of the direction sets: R 1, L 2, D 4, U 8, DR 16, DL 32, UR 64, UL 128.
  const std::pair<const char *, int> smears[15] = {
      {"R", 1},    {"L", 2},    {"D", 4},      {"U", 8},        {"LR", 3},    {"UD", 12},        {"LRUD", 15}, {"DR", 16},
      {"DL", 32},  {"UR", 64},  {"UL", 128},   {"UL+DR", 144},  {"UR+DL", 96}, {"diagonals", 240}, {"all", 255}};
  for (const auto &s : smears) {
    const int dirs = s.second;
    un(std::string("smear(") + s.first + ")", [dirs](const Image &im) { return smear(im, dirs); });
  }
  un("outline", outline);
  un("pad(1)", [](const Image &im) { return pad(im, false); });
  un("pad(maj)", [](const Image &im) { return pad(im, true); });
  un("remove_empty_lines", remove_empty_lines);
  un("dedupe_lines", dedupe_lines);
  un("connect_h", [](const Image &im) { return connect(im, true, false); });
  un("connect_v", [](const Image &im) { return connect(im, false, true); });
  un("connect_hv", [](const Image &im) { return connect(im, true, true); });
  un("spread_colours", [](const Image &im) { return spread(im, false); });
  un("spread_colours_but_maj", [](const Image &im) { return spread(im, true); });
  const char *sides[4] = {"left", "right", "top", "bottom"};
  for (int s = 0; s < 4; ++s) un(std::string(sides[s]) + "_half", [s](const Image &im) { return half(im, s); });
  un("bounding_box_filled", [](const Image &im) { return Image(im.w, im.h, uint8_t(maj(im)), im.x, im.y); });
  un("bounding_box_empty", [](const Image &im) { return Image(im.w, im.h, 0, im.x, im.y); });
  un("size_filled", [](const Image &im) { return Image(im.w, im.h, uint8_t(maj(im))); });
  un("size_empty", [](const Image &im) { return Image(im.w, im.h); });
  un("position_cell", [](const Image &im) { return Image(1, 1, uint8_t(maj(im)), im.x, im.y); });
  un("centre", centre);

  using CanvasFn = std::function<Image(const Image &, const Image &)>;
  const std::pair<const char *, CanvasFn> canvases[11] = {
      {"embed", [](const Image &im, const Image &cv) { return embed(im, cv); }},
      {"wrap", wrap},
      {"scale_to", scale_to},
      {"tile", [](const Image &im, const Image &cv) { return tiling(im, cv, 0, false); }},
      {"tile_gap", [](const Image &im, const Image &cv) { return tiling(im, cv, 1, false); }},
      {"mirror_tile", [](const Image &im, const Image &cv) { return tiling(im, cv, 0, true); }},
      {"mirror_tile_gap", [](const Image &im, const Image &cv) { return tiling(im, cv, 1, true); }},
      {"resample", resample},
      {"tile_anchored", [](const Image &im, const Image &cv) { return tiling(im, cv, 0, false, true); }},
      {"tile_gap_anchored", [](const Image &im, const Image &cv) { return tiling(im, cv, 1, false, true); }},
      {"mirror_tile_anchored", [](const Image &im, const Image &cv) { return tiling(im, cv, 0, true, true); }},
  };
  for (const auto &cf : canvases) {
    v.push_back(canvas_entry(std::string(cf.first) + "(input_size)", cf.second, 0));
    v.push_back(canvas_entry(std::string(cf.first) + "(output_size)", cf.second, 1));
  }

  v.push_back(split_entry("cut", cut));
  v.push_back(split_entry("split_colours", split_colours));
  v.push_back(split_entry("objects", [](const Image &im) { return objects(im, false); }));
  v.push_back(split_entry("objects_multicolour", [](const Image &im) { return objects(im, true); }));
  v.push_back(split_entry("gravity(R)", [](const Image &im) { return gravity(im, 1, 0); }));
  v.push_back(split_entry("gravity(L)", [](const Image &im) { return gravity(im, -1, 0); }));
  v.push_back(split_entry("gravity(D)", [](const Image &im) { return gravity(im, 0, 1); }));
  v.push_back(split_entry("gravity(U)", [](const Image &im) { return gravity(im, 0, -1); }));
  v.push_back(split_entry("columns", columns));
  v.push_back(split_entry("rows", rows));

  for (int k = 0; k < N_CRIT; ++k) {
    const std::string crit = std::string("(") + CRIT_NAMES[k] + ")";
    v.push_back(join_entry("pick_max" + crit, [k](const Images &l) { return pick(l, k, true); }));
    v.push_back(join_entry("pick_min" + crit, [k](const Images &l) { return pick(l, k, false); }));
  }
  v.push_back(join_entry("pick_unique", pick_unique));
  v.push_back(join_entry("compose", [](const Images &l) { return compose(l); }));
  v.push_back(join_entry("stack_line", stack_line));
  v.push_back(join_entry("stack_h", [](const Images &l) { return stack(l, true); }));
  v.push_back(join_entry("stack_v", [](const Images &l) { return stack(l, false); }));

  for (int k = 0; k < N_CRIT; ++k) {
    const std::string crit = std::string("(") + CRIT_NAMES[k] + ")";
    v.push_back(filter_entry("keep_max" + crit, [k](const Images &l) { return keep(l, k, true, false); }));
    v.push_back(filter_entry("drop_max" + crit, [k](const Images &l) { return keep(l, k, true, true); }));
    v.push_back(filter_entry("keep_min" + crit, [k](const Images &l) { return keep(l, k, false, false); }));
    v.push_back(filter_entry("drop_min" + crit, [k](const Images &l) { return keep(l, k, false, true); }));
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------- public helpers (functions.hpp)

Image to_origin(const Image &im) {
  Image out = im;
  out.x = out.y = 0;
  return out;
}

Image recolour(const Image &im, int c) {
  Image out = im;
  for (uint8_t &v : out.px)
    if (v) v = uint8_t(c);
  return out;
}

Image embed(const Image &im, const Image &canvas) {
  if (canvas.empty() || canvas.w > MAX_SIDE || canvas.h > MAX_SIDE) return bad();
  Image out(canvas.w, canvas.h);
  const int c0 = std::max(0, im.x), c1 = std::min(canvas.w, im.x + im.w);
  const int r0 = std::max(0, im.y), r1 = std::min(canvas.h, im.y + im.h);
  if (c0 < c1)
    for (int r = r0; r < r1; ++r)
      std::memcpy(&out.px[size_t(r) * out.w + c0], &im.px[size_t(r - im.y) * im.w + (c0 - im.x)], c1 - c0);
  return out;
}

Image compose(const Images &list) {
  if (list.empty()) return bad();
  int x0 = list[0].x, y0 = list[0].y, x1 = x0 + list[0].w, y1 = y0 + list[0].h;
  for (const Image &e : list)
    x0 = std::min(x0, e.x), y0 = std::min(y0, e.y), x1 = std::max(x1, e.x + e.w), y1 = std::max(y1, e.y + e.h);
  if (x1 - x0 > MAX_SIDE || y1 - y0 > MAX_SIDE || x1 <= x0 || y1 <= y0) return bad();
  const int n = int(list.size());
  std::vector<int> order(n), cells(n);
  for (int i = 0; i < n; ++i) order[i] = i, cells[i] = count_nonzero(list[i]);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return cells[a] > cells[b]; });
  Image out(x1 - x0, y1 - y0, 0, x0, y0);
  for (int k : order) {
    const Image &e = list[k];
    for (int r = 0; r < e.h; ++r) {
      uint8_t *dst = &out.px[size_t(e.y - y0 + r) * out.w + (e.x - x0)];
      const uint8_t *src = &e.px[size_t(r) * e.w];
      for (int c = 0; c < e.w; ++c)
        if (src[c]) dst[c] = src[c];
    }
  }
  return out;
}

const std::vector<Function> &vocabulary() {
  static const std::vector<Function> v = build_vocabulary();
  return v;
}

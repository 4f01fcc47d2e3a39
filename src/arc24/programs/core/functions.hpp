// The vocabulary of the compiled search: functions over images and lists of images.
//
// Every entry is unary on a search state (one image, or a list of images) once its parameters are
// fixed, and named with them: "filter_colour(3)", "pick_max(cells)". The kinds:
//   Unary  image -> image; on a list it is mapped over the elements (the result stays a list)
//   Canvas image x canvas -> image, the canvas a blank image of the example's input size
//          (canvas = 0) or output size (canvas = 1), supplied by the search; never on lists
//   Split  image -> list
//   Join   list -> image
//   Filter list -> list
// A function that cannot apply returns the empty image (or an empty list): a dead branch.
// functions.cpp holds them; image_functions.py is their readable reference, and the tests
// compare the two on random images.
#pragma once
#include <functional>
#include <string>

#include "image.hpp"

enum class Kind { Unary, Canvas, Split, Join, Filter };

struct Function {
  std::string name;
  Kind kind;
  std::function<Image(const Image &)> unary;
  std::function<Image(const Image &, const Image &)> canvas;
  int canvas_of = 0;  // Canvas: 0 the input's size, 1 the output's size
  std::function<Images(const Image &)> split;
  std::function<Image(const Images &)> join;
  std::function<Images(const Images &)> filter;
};

// Every function with every parameter, in the order the search tries them (cheapest ideas first).
const std::vector<Function> &vocabulary();

// Used by the search's output adapters too.
Image to_origin(const Image &im);
Image recolour(const Image &im, int c);              // every non-zero cell becomes c
Image embed(const Image &im, const Image &canvas);  // paste onto the canvas (at the origin) by position
Image compose(const Images &list);                  // overlay on the union box, 0 transparent

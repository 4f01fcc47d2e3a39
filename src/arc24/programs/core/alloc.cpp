// The process's allocator for small blocks: free lists by size, carved from large chunks.
//
// The search makes and drops millions of small images (most results are duplicates of an earlier
// state's); glibc's malloc spent a quarter of the search's time consolidating and unlinking them.
// Blocks of up to 4 KiB come from per-size free lists and are reused, never returned to the
// system: a search process lives for one task, and its states are its memory anyway.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr size_t HEADER = 16;             // keeps the 16-byte alignment operator new promises
constexpr size_t GRAIN = 16, MAX_SMALL = 4096, CLASSES = MAX_SMALL / GRAIN + 1;
constexpr size_t CHUNK = size_t(4) << 20;

struct Free { Free *next; };
Free *free_lists[CLASSES];
char *chunk_at = nullptr, *chunk_end = nullptr;

void *allocate(size_t n) {
  if (n > MAX_SMALL) {
    void *p = std::malloc(n + HEADER);
    if (!p) throw std::bad_alloc();
    *static_cast<size_t *>(p) = 0;  // class 0: a malloc block
    return static_cast<char *>(p) + HEADER;
  }
  const size_t k = (n + GRAIN - 1) / GRAIN + (n == 0);
  if (Free *f = free_lists[k]) {
    free_lists[k] = f->next;
    return f;
  }
  const size_t need = HEADER + k * GRAIN;
  if (chunk_at == nullptr || size_t(chunk_end - chunk_at) < need) {
    chunk_at = static_cast<char *>(std::malloc(CHUNK));
    if (!chunk_at) throw std::bad_alloc();
    chunk_end = chunk_at + CHUNK;
  }
  char *p = chunk_at;
  chunk_at += need;
  *reinterpret_cast<size_t *>(p) = k;
  return p + HEADER;
}

void release(void *p) {
  if (!p) return;
  char *block = static_cast<char *>(p) - HEADER;
  const size_t k = *reinterpret_cast<size_t *>(block);
  if (k == 0) return std::free(block);
  Free *f = static_cast<Free *>(p);
  f->next = free_lists[k];
  free_lists[k] = f;
}

}  // namespace

void *operator new(size_t n) { return allocate(n); }
void *operator new[](size_t n) { return allocate(n); }
void operator delete(void *p) noexcept { release(p); }
void operator delete[](void *p) noexcept { release(p); }
void operator delete(void *p, size_t) noexcept { release(p); }
void operator delete[](void *p, size_t) noexcept { release(p); }

// Page pre-faulting for buffers a hot path will write: the kernel maps their pages now, at start-up, rather
// than one page fault at a time on the first write to each (13-14 us per 4 KiB fault on the shared VM these
// figures come from, against ~1 ms for 4 MiB populated in one call).
#pragma once

#include <cstddef>

namespace enigma {

// Maps every page of [p, p + bytes) writable without changing its content: MADV_POPULATE_WRITE (Linux 5.14)
// for the whole pages inside the range, a read and write-back of one byte per page for the rest and on
// older kernels. For anonymous memory and MAP_SHARED file maps alike.
void prefault_writable(void* p, std::size_t bytes) noexcept;

}  // namespace enigma

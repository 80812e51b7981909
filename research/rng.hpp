// The searches' generator is core's splitmix64 (core/rng.hpp): one copy for the engine and research.
#pragma once

#include "core/rng.hpp"

namespace enigma::research {

using SplitMix64 = enigma::SplitMix64;

}  // namespace enigma::research

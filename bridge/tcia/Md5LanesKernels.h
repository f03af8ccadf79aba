#pragma once
// The ISA-specific entry points of Md5Lanes (one translation unit each, see Md5LanesKernel.inc).
// Private to Md5Lanes.cpp and those units; no standard header on purpose.

namespace bridge::tcia::md5lanes {

/// `blocks` 64-byte blocks of each of eight lanes into state[word][lane].
using CompressLanes = void (*)(unsigned state[4][8], const unsigned char* const lanes[8], unsigned long blocks);

void compressLanesAvx2(unsigned state[4][8], const unsigned char* const lanes[8], unsigned long blocks);
void compressLanesAvx512(unsigned state[4][8], const unsigned char* const lanes[8], unsigned long blocks);

}  // namespace bridge::tcia::md5lanes

// Md5Lanes' kernel compiled with -mavx2: eight lanes in one ymm register. CMakeLists.txt sets
// the flags on this file alone, and Md5Lanes.cpp calls it only when the CPU has them.
#include "bridge/tcia/Md5LanesKernels.h"

#if defined(__x86_64__)
namespace {
#include "bridge/tcia/Md5LanesKernel.inc"
}  // namespace

namespace bridge::tcia::md5lanes {
void compressLanesAvx2(unsigned state[4][8], const unsigned char* const lanes[8], unsigned long blocks) {
    md5CompressLanes(state, lanes, blocks);
}
}  // namespace bridge::tcia::md5lanes
#endif

// Md5Lanes' kernel compiled with -mavx2: eight lanes in one ymm register. CMakeLists.txt sets
// the flags on this file alone, and Md5Lanes.cpp calls it only when the CPU has them.
#define MD5_LANES_ENTRY compressLanesAvx2
#include "bridge/tcia/Md5LanesEntry.inc"

// Md5Lanes' kernel compiled with -mavx512f -mavx512vl: AVX-512VL on ymm registers (vprold
// rotates, vpternlogd for F..I). CMakeLists.txt sets the flags on this file alone, and
// Md5Lanes.cpp calls it only when the CPU has them.
#define MD5_LANES_ENTRY compressLanesAvx512
#include "bridge/tcia/Md5LanesEntry.inc"

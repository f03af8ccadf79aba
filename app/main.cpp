// Placeholder: tcia-bridge entry point (issue #3 wires DIMSE + DICOMweb here).
#include <cstdio>
int main() { std::fputs("tcia-bridge: not built yet\n", stderr); return 2; }

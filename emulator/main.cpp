// Placeholder: the emulator is being built (issue #2).
#include <cstdio>
int main() { std::fputs("tcia-emulator: not built yet\n", stderr); return 2; }

#include <cstdio>

int main() {
  std::fputs("latchkey: commands are being wired\n", stderr);
  return 2;
}

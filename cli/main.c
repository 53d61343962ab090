/* cli/main.c - placeholder. */
#include <stdio.h>
int main(void)
{
    puts("flowmimic " FM_VERSION);
    return 0;
}

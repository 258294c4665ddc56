/* The firmware's own C program, /usr/bin/firmware in the image: a tiny main loop standing in
 * for the board's real one (cross-compiled for armv7 beside the Rust server). */
#include <stdio.h>

static unsigned blink(unsigned ticks)
{
    unsigned on = 0;
    for (unsigned t = 0; t < ticks; t++)
        on ^= (t % 3 == 0);
    return on;
}

int main(void)
{
    printf("firmware: led %s\n", blink(10) ? "on" : "off");
    return 0;
}

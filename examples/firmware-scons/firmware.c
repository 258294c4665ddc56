/* The firmware image itself: a tiny C main loop (stands in for the real thing). */
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

// SPDX-License-Identifier: MIT
/*
 * embed OUT.c FILE SYMBOL [FILE SYMBOL ...]: write OUT.c defining each
 * SYMBOL as `const unsigned char SYMBOL[]`, the bytes of FILE and a final
 * NUL. The build runs it (CMakeLists.txt, kw_embed) when a FILE changes.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 4 || argc % 2) {
        fputs("usage: embed OUT.c FILE SYMBOL [FILE SYMBOL ...]\n", stderr);
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    int ok = out != NULL;
    for (int i = 2; ok && i < argc; i += 2) {
        FILE *in = fopen(argv[i], "rb");
        ok = in && fprintf(out,
                           "/* generated from %s */\nextern const unsigned char %s[];\n"
                           "const unsigned char %s[] = {",
                           argv[i], argv[i + 1], argv[i + 1]) > 0;
        unsigned char buf[1 << 16];
        size_t n, col = 0;
        while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
            for (size_t k = 0; k < n; k++)
                fprintf(out, "%s0x%02x,", col++ % 16 ? "" : "\n", buf[k]);
        ok = ok && !ferror(in) && fputs("0};\n", out) >= 0;
        if (!ok)
            perror(argv[i]);
        if (in)
            fclose(in);
    }
    if (!out || fclose(out) != 0 || !ok) {
        perror(argv[1]);
        remove(argv[1]); /* a half-written file must not look up to date */
        return 1;
    }
    return 0;
}

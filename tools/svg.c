/* SVG heatmap writer (see svg.h). Plain SVG 1.1: rectangles, text and one
 * linear gradient for the legend; sizes are estimated from character counts
 * (about 0.6 em per character of a sans-serif font), so no font metrics are
 * needed. */
#include "svg.h"

#include <math.h>
#include <string.h>

/* Sequential colour ramp, light to dark: the 5-class "YlGnBu" scheme of
 * ColorBrewer (C. A. Brewer, colorbrewer2.org), readable by people with the
 * common colour-vision deficiencies and in greyscale. */
static const unsigned char ramp[5][3] = {
    {0xff, 0xff, 0xcc}, {0xa1, 0xda, 0xb4}, {0x41, 0xb6, 0xc4}, {0x22, 0x5e, 0xa8}, {0x0c, 0x2c, 0x84},
};

#define FONT "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\""
#define PAD 16
#define CELL_H 26
#define CHAR_W 7.2 /* width of a character at 12 px */

static void colour(double x, unsigned char rgb[3])
{
    if (!(x >= 0)) /* NaN too */
        x = 0;
    if (x > 1)
        x = 1;
    double pos = x * 4;
    int i = (int)pos;
    if (i > 3)
        i = 3;
    double f = pos - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = (unsigned char)lround(ramp[i][k] + f * (ramp[i + 1][k] - ramp[i][k]));
}

/* Relative luminance (ITU-R BT.709 weights on sRGB values, no gamma: enough
 * to choose black or white text). */
static int dark(const unsigned char rgb[3])
{
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 140;
}

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

static double text_w(const char *s, double char_w)
{
    return s ? (double)strlen(s) * char_w : 0;
}

int svg_heatmap_write(FILE *f, const struct svg_heatmap *h, uint32_t *width_out,
                      uint32_t *height_out)
{
    /* Column widths from the longest caption, label and note. */
    size_t max_text = 4, max_label = h->row_header ? strlen(h->row_header) : 6, max_note = 0;
    for (uint32_t r = 0; r < h->rows; r++) {
        if (strlen(h->row_label[r]) > max_label)
            max_label = strlen(h->row_label[r]);
        if (h->row_note && strlen(h->row_note[r]) > max_note)
            max_note = strlen(h->row_note[r]);
        for (uint32_t c = 0; c < h->cols; c++)
            if (strlen(h->text[(uint64_t)r * h->cols + c]) > max_text)
                max_text = strlen(h->text[(uint64_t)r * h->cols + c]);
    }
    double cell_w = ceil(max_text * CHAR_W + 18);
    if (cell_w < 44)
        cell_w = 44;
    double label_w = ceil(max_label * CHAR_W + 12);
    double note_w = max_note ? ceil(max_note * CHAR_W + 12) : 0;
    double grid_x = PAD + label_w + note_w;
    double grid_y = 104;
    double grid_w = cell_w * h->cols, grid_h = (double)CELL_H * h->rows;
    double legend_y = grid_y + grid_h + 28;
    double legend_w = 260;
    double width = grid_x + grid_w + PAD;
    double need = PAD * 2 + text_w(h->title, 9.6);
    if (width < need)
        width = need;
    need = PAD * 2 + text_w(h->subtitle, CHAR_W);
    if (width < need)
        width = need;
    if (width < PAD * 2 + legend_w + 120)
        width = PAD * 2 + legend_w + 120;
    need = PAD * 2 + legend_w + 42 + text_w(h->partial_text, 6.6);
    if (width < need)
        width = need;
    double height = legend_y + 56;
    uint32_t W = (uint32_t)ceil(width), H = (uint32_t)ceil(height);

    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
            "height=\"%u\" viewBox=\"0 0 %u %u\">\n",
            W, H, W, H);
    fputs("<title>", f);
    esc(f, h->title);
    fputs("</title>\n", f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"#ffffff\"/>\n", W, H);
    /* Diagonal hatching over the cells of a partly observed period. */
    fputs("<defs><pattern id=\"partial-hatch\" width=\"6\" height=\"6\" "
          "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
          "<rect width=\"2\" height=\"6\" fill=\"#444444\" fill-opacity=\"0.35\"/>"
          "</pattern></defs>\n",
          f);

    fprintf(f, "<text x=\"%d\" y=\"30\" " FONT " font-size=\"16\" font-weight=\"bold\" "
               "fill=\"#222222\" class=\"title\">", PAD);
    esc(f, h->title);
    fputs("</text>\n", f);
    if (h->subtitle) {
        fprintf(f, "<text x=\"%d\" y=\"50\" " FONT " font-size=\"12\" fill=\"#555555\" "
                   "class=\"subtitle\">", PAD);
        esc(f, h->subtitle);
        fputs("</text>\n", f);
    }
    /* Column caption and period numbers. */
    if (h->col_header && h->cols) {
        fprintf(f, "<text x=\"%.1f\" y=\"76\" " FONT " font-size=\"12\" fill=\"#333333\" "
                   "text-anchor=\"%s\" class=\"col-header\">",
                grid_w >= text_w(h->col_header, CHAR_W) ? grid_x + grid_w / 2 : grid_x,
                grid_w >= text_w(h->col_header, CHAR_W) ? "middle" : "start");
        esc(f, h->col_header);
        fputs("</text>\n", f);
    }
    for (uint32_t c = 0; c < h->cols; c++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" " FONT " font-size=\"12\" font-weight=\"bold\" "
                   "fill=\"#333333\" text-anchor=\"middle\" class=\"col-label\">%u</text>\n",
                grid_x + cell_w * c + cell_w / 2, grid_y - 8, c);
    if (h->row_header) {
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" " FONT " font-size=\"12\" font-weight=\"bold\" "
                   "fill=\"#333333\" class=\"row-header\">", PAD, grid_y - 8);
        esc(f, h->row_header);
        fputs("</text>\n", f);
    }

    for (uint32_t r = 0; r < h->rows; r++) {
        double y = grid_y + (double)CELL_H * r;
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" " FONT " font-size=\"12\" fill=\"#222222\" "
                   "class=\"row-label\">", PAD, y + CELL_H / 2.0 + 4);
        esc(f, h->row_label[r]);
        fputs("</text>\n", f);
        if (h->row_note) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" " FONT " font-size=\"11\" fill=\"#666666\" "
                       "text-anchor=\"end\" class=\"row-note\">",
                    grid_x - 8, y + CELL_H / 2.0 + 4);
            esc(f, h->row_note[r]);
            fputs("</text>\n", f);
        }
        for (uint32_t c = 0; c < h->cols; c++) {
            uint64_t i = (uint64_t)r * h->cols + c;
            if (!h->present[i])
                continue;
            double x = grid_x + cell_w * c;
            double v = h->value[i];
            const int part = h->partial && h->partial[i];
            unsigned char rgb[3] = {0xdd, 0xdd, 0xdd};
            int has = isfinite(v);
            if (has)
                colour((v - h->lo) / (h->hi - h->lo), rgb);
            fprintf(f,
                    "<rect class=\"cell%s%s\" data-row=\"%u\" data-col=\"%u\" x=\"%.1f\" "
                    "y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"#%02x%02x%02x\" "
                    "stroke=\"#ffffff\" stroke-width=\"1\"><title>",
                    has ? "" : " na", part ? " partial" : "", r, c, x, y, cell_w, CELL_H, rgb[0],
                    rgb[1], rgb[2]);
            esc(f, h->row_label[r]);
            fprintf(f, ", period %u: ", c);
            esc(f, has ? h->text[i] : "no value");
            if (part)
                fputs(" (partial period)", f);
            fputs("</title></rect>\n", f);
            if (part)
                fprintf(f, "<rect class=\"partial-mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                           "height=\"%d\" fill=\"url(#partial-hatch)\" stroke=\"#444444\" "
                           "stroke-width=\"1\" stroke-dasharray=\"3,2\"/>\n",
                        x + 0.5, y + 0.5, cell_w - 1, CELL_H - 1);
            if (h->text[i][0])
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" " FONT " font-size=\"12\" "
                           "text-anchor=\"middle\" fill=\"%s\" class=\"value\">",
                        x + cell_w / 2, y + CELL_H / 2.0 + 4,
                        has && dark(rgb) ? "#ffffff" : "#111111");
            if (h->text[i][0]) {
                esc(f, h->text[i]);
                fputs("</text>\n", f);
            }
        }
    }
    if (h->rows == 0)
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" " FONT " font-size=\"12\" fill=\"#555555\">"
                   "no customers: nothing to draw</text>\n", PAD, grid_y + 16);

    /* Legend: the gradient bar with its scale captions. */
    double lx = PAD;
    fprintf(f, "<g class=\"legend\">\n<text x=\"%.1f\" y=\"%.1f\" " FONT " font-size=\"12\" "
               "fill=\"#333333\">colour scale</text>\n", lx, legend_y - 6);
    fprintf(f, "<defs><linearGradient id=\"legend-ramp\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"0\">\n");
    for (int k = 0; k < 5; k++)
        fprintf(f, "<stop offset=\"%d%%\" stop-color=\"#%02x%02x%02x\"/>\n", k * 25, ramp[k][0],
                ramp[k][1], ramp[k][2]);
    fputs("</linearGradient></defs>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
               "fill=\"url(#legend-ramp)\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n",
            lx, legend_y, legend_w);
    const char *caps[3] = {h->lo_text, h->mid_text, h->hi_text};
    const char *anchor[3] = {"start", "middle", "end"};
    for (int k = 0; k < 3; k++) {
        if (!caps[k])
            continue;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" " FONT " font-size=\"11\" fill=\"#333333\" "
                   "text-anchor=\"%s\">", lx + legend_w * k / 2, legend_y + 28, anchor[k]);
        esc(f, caps[k]);
        fputs("</text>\n", f);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"#dddddd\"/>\n"
               "<text x=\"%.1f\" y=\"%.1f\" " FONT " font-size=\"11\" fill=\"#333333\">"
               "no value</text>\n</g>\n",
            lx + legend_w + 24, legend_y, lx + legend_w + 42, legend_y + 11);
    if (h->partial_text) {
        fprintf(f, "<g class=\"legend-partial\"><rect x=\"%.1f\" y=\"%.1f\" width=\"14\" "
                   "height=\"14\" fill=\"url(#partial-hatch)\" stroke=\"#444444\" "
                   "stroke-width=\"1\" stroke-dasharray=\"3,2\"/>\n<text x=\"%.1f\" y=\"%.1f\" " FONT
                   " font-size=\"11\" fill=\"#333333\">",
                lx + legend_w + 24, legend_y + 20, lx + legend_w + 42, legend_y + 31);
        esc(f, h->partial_text);
        fputs("</text></g>\n", f);
    }
    fputs("</svg>\n", f);
    if (width_out)
        *width_out = W;
    if (height_out)
        *height_out = H;
    return ferror(f) ? -1 : 0;
}

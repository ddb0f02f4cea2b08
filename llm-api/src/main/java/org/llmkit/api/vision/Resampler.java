package org.llmkit.api.vision;

/**
 * Resizes 8-bit image planes with Pillow's antialiased convolution (libImaging {@code Resample.c}), as image
 * processors do: a separable filter, horizontal pass first, whose support widens by the scale factor when
 * shrinking, coefficients normalised per output pixel and quantised to fixed point, each pass rounded and clipped
 * to 0..255. The two {@link ImageProcessor.Backend}s differ only in the fixed-point precision of the coefficients:
 * Pillow uses 22 fractional bits; PyTorch's uint8 antialiased interpolation ({@code UpSampleKernelAVXAntialias},
 * behind torchvision's {@code resize}) int16 coefficients with the most fractional bits (at most 22) for which the
 * largest coefficient of the pass still fits.
 */
final class Resampler {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Pillow's convolution filters, by their {@code PIL.Image.Resampling} value. */
    enum Filter {
        /** {@code Resampling.BOX} (4). */
        BOX(0.5),
        /** {@code Resampling.BILINEAR} (2). */
        BILINEAR(1.0),
        /** {@code Resampling.HAMMING} (5). */
        HAMMING(1.0),
        /** {@code Resampling.BICUBIC} (3), Keys' cubic with a = -0.5. */
        BICUBIC(2.0),
        /** {@code Resampling.LANCZOS} (1), three lobes. */
        LANCZOS(3.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            switch (this) {
                case BOX:
                    return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
                case BILINEAR:
                    x = Math.abs(x);
                    return x < 1.0 ? 1.0 - x : 0.0;
                case HAMMING:
                    x = Math.abs(x);
                    if (x == 0.0) {
                        return 1.0;
                    }
                    if (x >= 1.0) {
                        return 0.0;
                    }
                    x = x * Math.PI;
                    return Math.sin(x) / x * (0.54 + 0.46 * Math.cos(x));
                case BICUBIC:
                    double a = -0.5;
                    x = Math.abs(x);
                    if (x < 1.0) {
                        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                    }
                    if (x < 2.0) {
                        return (((x - 5) * x + 8) * x - 4) * a;
                    }
                    return 0.0;
                case LANCZOS:
                    return -3.0 < x && x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
                default:
                    throw new IllegalStateException(name());
            }
        }

        private static double sinc(double x) {
            if (x == 0.0) {
                return 1.0;
            }
            x = x * Math.PI;
            return Math.sin(x) / x;
        }

        /**
         * @param pil a {@code PIL.Image.Resampling} value as image processors store it ({@code resample})
         * @return the filter
         * @throws UnsupportedOperationException for NEAREST (0) and unknown values
         */
        static Filter ofPil(int pil) {
            return switch (pil) {
                case 1 -> LANCZOS;
                case 2 -> BILINEAR;
                case 3 -> BICUBIC;
                case 4 -> BOX;
                case 5 -> HAMMING;
                default -> throw new UnsupportedOperationException("resample " + pil
                        + " is not supported; supported: 1 (lanczos), 2 (bilinear), 3 (bicubic), 4 (box), 5 (hamming)");
            };
        }
    }

    private Resampler() { }

    /**
     * Per output pixel: first input index and number of taps ({@code bounds}), and fixed-point weights
     * ({@code ksize} per pixel) with {@code precision} fractional bits.
     */
    private record Coefficients(int[] bounds, int[] weights, int ksize, int precision) { }

    private static Coefficients coefficients(int inSize, int outSize, Filter filter, ImageProcessor.Backend rounding) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        double[] normalised = new double[outSize * ksize];
        double[] k = new double[ksize];
        double largest = 0;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = Math.max(0, (int) (center - support + 0.5));
            int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++) {
                k[x] = filter.weight((x + xmin - center + 0.5) * ss);
                sum += k[x];
            }
            for (int x = 0; x < xmax; x++) {
                double w = sum != 0.0 ? k[x] / sum : k[x];
                normalised[xx * ksize + x] = w;
                largest = Math.max(largest, w);
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        int precision = PRECISION_BITS;
        if (rounding == ImageProcessor.Backend.TORCHVISION) {
            precision = 0;
            while (precision < PRECISION_BITS && (int) (0.5 + largest * (1 << (precision + 1))) < (1 << 15)) {
                precision++;
            }
        }
        int[] weights = new int[normalised.length];
        for (int i = 0; i < weights.length; i++) {
            double w = normalised[i] * (1 << precision);
            // C's (int) cast truncates toward zero, as Java's does
            weights[i] = w < 0 ? (int) (w - 0.5) : (int) (w + 0.5);
        }
        return new Coefficients(bounds, weights, ksize, precision);
    }

    private static int clip8(int value, int precision) {
        int v = value >> precision;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /**
     * Resizes one plane of 0..255 values.
     *
     * @param plane {@code [height * width]} row-major values in 0..255
     * @param width input width
     * @param height input height
     * @param outWidth output width, &gt; 0
     * @param outHeight output height, &gt; 0
     * @param filter the filter
     * @param rounding the coefficients' precision
     * @return {@code [outHeight * outWidth]} values in 0..255
     */
    static int[] resize(int[] plane, int width, int height, int outWidth, int outHeight, Filter filter,
            ImageProcessor.Backend rounding) {
        int[] current = plane;
        int w = width;
        if (outWidth != width) {
            Coefficients c = coefficients(width, outWidth, filter, rounding);
            int[] out = new int[height * outWidth];
            for (int y = 0; y < height; y++) {
                for (int xx = 0; xx < outWidth; xx++) {
                    int xmin = c.bounds[xx * 2];
                    int n = c.bounds[xx * 2 + 1];
                    int acc = c.precision == 0 ? 0 : 1 << (c.precision - 1);
                    for (int x = 0; x < n; x++) {
                        acc += current[y * w + xmin + x] * c.weights[xx * c.ksize + x];
                    }
                    out[y * outWidth + xx] = clip8(acc, c.precision);
                }
            }
            current = out;
            w = outWidth;
        }
        if (outHeight != height) {
            Coefficients c = coefficients(height, outHeight, filter, rounding);
            int[] out = new int[outHeight * w];
            for (int yy = 0; yy < outHeight; yy++) {
                int ymin = c.bounds[yy * 2];
                int n = c.bounds[yy * 2 + 1];
                for (int x = 0; x < w; x++) {
                    int acc = c.precision == 0 ? 0 : 1 << (c.precision - 1);
                    for (int y = 0; y < n; y++) {
                        acc += current[(ymin + y) * w + x] * c.weights[yy * c.ksize + y];
                    }
                    out[yy * w + x] = clip8(acc, c.precision);
                }
            }
            current = out;
        }
        return current == plane ? plane.clone() : current;
    }
}

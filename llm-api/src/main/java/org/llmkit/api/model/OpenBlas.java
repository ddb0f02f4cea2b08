package org.llmkit.api.model;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * OpenBLAS's single-precision matrix-vector and matrix-matrix products on direct buffers (bytedeco's build, the
 * same one nd4j-native uses). libtorch's own GEMV goes to MKL, which takes a slow generic path on AMD CPUs, and
 * oneDNN's GEMV pays ~10 µs of setup a call; OpenBLAS streams the weights at close to the machine's read bandwidth.
 *
 * <p>OpenBLAS picks its kernels by CPU model when it loads; a CPU newer than the library falls back to generic
 * kernels unless {@code OPENBLAS_CORETYPE} names a family (e.g. {@code SkylakeX}, {@code Haswell},
 * {@code Zen}). {@link HostDecoder} therefore measures it against oneDNN before using it.
 */
final class OpenBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    private static final String LOAD_FAILURE = load();

    private OpenBlas() { }

    private static String load() {
        try {
            Loader.load(openblas_nolapack.class);
            return null;
        } catch (LinkageError | RuntimeException e) {
            return e.toString();
        }
    }

    /** @return whether the native library loaded */
    static boolean available() {
        return LOAD_FAILURE == null;
    }

    /** @return why the native library did not load, or null when it did */
    static String loadFailure() {
        return LOAD_FAILURE;
    }

    /**
     * {@code y = W x} for a row-major {@code W [rows, cols]}.
     *
     * @param w the matrix, a direct buffer of at least {@code rows * cols} floats from position 0
     * @param rows output size
     * @param cols input size
     * @param x the input, a direct buffer of at least {@code cols} floats
     * @param y the output, a direct buffer of at least {@code rows} floats, overwritten
     */
    static void gemv(FloatBuffer w, int rows, int cols, FloatBuffer x, FloatBuffer y) {
        gemv(w, rows, cols, false, 1f, x, y);
    }

    /**
     * {@code y = alpha W x}, or {@code y = alpha W^T x} when {@code transpose}, for a row-major, densely packed
     * {@code W [rows, cols]}; each buffer is read from its position 0 ({@link FloatBuffer#slice(int, int)} gives
     * offsets).
     *
     * @param w the matrix
     * @param rows its rows
     * @param cols its columns
     * @param transpose whether to multiply by its transpose ({@code x} has {@code rows} values, {@code y}
     *     {@code cols})
     * @param alpha the scale
     * @param x the input
     * @param y the output, overwritten
     */
    static void gemv(FloatBuffer w, int rows, int cols, boolean transpose, float alpha, FloatBuffer x,
            FloatBuffer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, transpose ? TRANS : NO_TRANS, rows, cols, alpha, w, cols, x, 1, 0f,
                y, 1);
    }

    /**
     * {@code C = alpha A B}, or {@code C = alpha A B^T} when {@code transposeB}, for row-major matrices
     * {@code A [m, k]} and {@code C [m, n]}, with {@code B [k, n]} (or {@code [n, k]} when transposed); each buffer
     * is read from its position 0 and each row of a matrix starts {@code ld} floats after the previous one.
     *
     * @param m rows of {@code A} and {@code C}
     * @param n columns of {@code C}
     * @param k columns of {@code A}: the length of each dot product
     * @param alpha the scale
     * @param a the left matrix
     * @param lda the row stride of {@code a}, at least {@code k}
     * @param b the right matrix
     * @param ldb the row stride of {@code b}, at least {@code k} when transposed, else {@code n}
     * @param transposeB whether to multiply by the transpose of {@code b}
     * @param c the output, overwritten
     * @param ldc the row stride of {@code c}, at least {@code n}
     */
    static void gemm(int m, int n, int k, float alpha, FloatBuffer a, int lda, FloatBuffer b, int ldb,
            boolean transposeB, FloatBuffer c, int ldc) {
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, NO_TRANS, transposeB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b,
                ldb, 0f, c, ldc);
    }
}

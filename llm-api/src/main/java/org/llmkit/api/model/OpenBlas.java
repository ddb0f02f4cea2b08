package org.llmkit.api.model;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.bytedeco.openblas.presets.openblas_nolapack.SetNumThreads;

/**
 * OpenBLAS's single-precision matrix-vector product on direct buffers (bytedeco's build, the same one
 * nd4j-native uses). libtorch's own GEMV goes to MKL, which takes a slow generic path on AMD CPUs, and oneDNN's
 * GEMV pays ~10 µs of setup a call; OpenBLAS streams the weights at close to the machine's read bandwidth.
 *
 * <p>OpenBLAS picks its kernels by CPU model when it loads; a CPU newer than the library falls back to generic
 * kernels unless {@code OPENBLAS_CORETYPE} names a family (e.g. {@code SkylakeX}, {@code Haswell},
 * {@code Zen}). {@link HostDecoder} therefore measures it against oneDNN before using it.
 */
final class OpenBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    /**
     * The most elements a GEMV may have and still run on the calling thread: OpenBLAS 0.3.19 splits one of
     * {@code rows * cols >= 2304 * GEMM_MULTITHREAD_THRESHOLD} (9216 with the default threshold 4) over its threads.
     */
    static final int SINGLE_THREAD_GEMV_ELEMENTS = 2304 * 4 - 1;
    private static final String LOAD_FAILURE = load();
    private static SetNumThreads setNumThreads;

    private OpenBlas() { }

    private static String load() {
        try {
            Loader.load(openblas_nolapack.class);
            return null;
        } catch (LinkageError | RuntimeException e) {
            return e.toString();
        }
    }

    /**
     * The threads OpenBLAS splits a call over, as it counted them when it loaded: {@code OPENBLAS_NUM_THREADS},
     * else {@code GOTO_NUM_THREADS}, else {@code OMP_NUM_THREADS}, else the cores, at most the cores.
     *
     * @return at least 1
     */
    static int threads() {
        int cores = Runtime.getRuntime().availableProcessors();
        for (String name : new String[] {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"}) {
            String value = System.getenv(name);
            try {
                int n = value == null ? 0 : Integer.parseInt(value.trim());
                if (n > 0) {
                    return Math.min(n, cores);
                }
            } catch (NumberFormatException e) {
                // OpenBLAS reads such a value as 0: the next variable decides
            }
        }
        return cores;
    }

    /**
     * Sets how many threads each OpenBLAS call may use, for the whole process ({@code openblas_set_num_threads},
     * called directly: bytedeco's {@code blas_set_num_threads} would also set MKL's count, which libtorch exports).
     *
     * @param n the count, or 0 for the count OpenBLAS started with ({@link #threads()})
     */
    static synchronized void setThreads(int n) {
        if (setNumThreads == null) {
            Pointer address = Loader.addressof("openblas_set_num_threads");
            if (address == null) {
                throw new IllegalStateException("OpenBLAS exports no openblas_set_num_threads");
            }
            setNumThreads = new SetNumThreads() { }.put(address);
        }
        setNumThreads.call(n);
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
        gemv(w, rows, cols, transpose, alpha, x, false, y);
    }

    /**
     * {@code C = alpha op(A) op(B) + beta C} for row-major matrices ({@code op} transposes when asked):
     * {@code op(A) [m, k]}, {@code op(B) [k, n]}, {@code C [m, n]}; each buffer is read from its position 0
     * with the given leading dimension (the row stride of the matrix as stored).
     *
     * @param transA whether A is stored as {@code [k, m]}
     * @param transB whether B is stored as {@code [n, k]}
     * @param m rows of C
     * @param n columns of C
     * @param k the inner dimension
     * @param alpha the product's scale
     * @param a A
     * @param lda A's row stride
     * @param b B
     * @param ldb B's row stride
     * @param beta the scale of C's old values (0 overwrites, 1 accumulates)
     * @param c C
     * @param ldc C's row stride
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatBuffer a, int lda,
            FloatBuffer b, int ldb, float beta, FloatBuffer c, int ldc) {
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /**
     * {@code y = alpha op(W) x}, or {@code y += alpha op(W) x} when {@code accumulate}, with {@code op(W)} being
     * {@code W} or {@code W^T} as for {@link #gemv(FloatBuffer, int, int, boolean, float, FloatBuffer, FloatBuffer)}.
     *
     * @param w the matrix
     * @param rows its rows
     * @param cols its columns
     * @param transpose whether to multiply by its transpose
     * @param alpha the scale
     * @param x the input
     * @param accumulate whether to add to {@code y} rather than overwrite it
     * @param y the output
     */
    static void gemv(FloatBuffer w, int rows, int cols, boolean transpose, float alpha, FloatBuffer x,
            boolean accumulate, FloatBuffer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, transpose ? TRANS : NO_TRANS, rows, cols, alpha, w, cols, x, 1,
                accumulate ? 1f : 0f, y, 1);
    }
}

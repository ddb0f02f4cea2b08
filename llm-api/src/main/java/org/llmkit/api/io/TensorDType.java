package org.llmkit.api.io;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Element types of safetensors tensors that llmkit reads and writes.
 *
 * <p>The constant names are exactly the safetensors {@code "dtype"} strings (for example
 * {@code "BF16"}). All multi-byte types are stored little-endian. {@link #BOOL} is one byte per
 * element, {@code 0} for false and {@code 1} for true.
 */
public enum TensorDType {
    /** IEEE 754 binary64. */
    F64(8),
    /** IEEE 754 binary32. */
    F32(4),
    /** IEEE 754 binary16 (half precision); see {@link Half#f16ToFloat(short)}. */
    F16(2),
    /** bfloat16: the upper 16 bits of an IEEE binary32; see {@link Half#bf16ToFloat(short)}. */
    BF16(2),
    /** Signed 64-bit two's-complement integer. */
    I64(8),
    /** Signed 32-bit two's-complement integer. */
    I32(4),
    /** Signed 16-bit two's-complement integer. */
    I16(2),
    /** Signed 8-bit two's-complement integer. */
    I8(1),
    /** Unsigned 8-bit integer. */
    U8(1),
    /** Boolean stored as one byte per element. */
    BOOL(1);

    private final int byteSize;

    TensorDType(int byteSize) {
        this.byteSize = byteSize;
    }

    /**
     * Returns the number of bytes one element occupies in the file.
     *
     * @return 1, 2, 4 or 8
     */
    public int byteSize() {
        return byteSize;
    }

    /**
     * Parses a safetensors {@code "dtype"} string such as {@code "F32"} or {@code "BF16"}.
     *
     * <p>Matching is exact (case-sensitive), as in the reference implementation.
     *
     * @param safetensorsName the dtype string from a safetensors header
     * @return the matching type
     * @throws IllegalArgumentException if the name is null or not a supported dtype; the message
     *     lists the supported names
     */
    public static TensorDType parse(String safetensorsName) {
        if (safetensorsName != null) {
            for (TensorDType type : values()) {
                if (type.name().equals(safetensorsName)) {
                    return type;
                }
            }
        }
        String hint = "";
        if (safetensorsName != null) {
            String upper = safetensorsName.toUpperCase(Locale.ROOT);
            if (!upper.equals(safetensorsName) && Arrays.stream(values()).anyMatch(t -> t.name().equals(upper))) {
                hint = " (dtype names are case-sensitive; did you mean \"" + upper + "\"?)";
            }
        }
        throw new IllegalArgumentException("unsupported safetensors dtype "
                + (safetensorsName == null ? "null" : "\"" + safetensorsName + "\"") + hint
                + "; supported: " + supportedNames());
    }

    /**
     * Returns the supported dtype names, comma separated, for error messages.
     *
     * @return for example {@code "F64, F32, F16, ..."}
     */
    static String supportedNames() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}

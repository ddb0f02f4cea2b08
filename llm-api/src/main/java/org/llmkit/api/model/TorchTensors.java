package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * What DJL 0.36 knows about a libtorch tensor but does not make public. Whether a tensor is contiguous decides
 * whether {@code JniUtils.getByteBuffer(a, true)} hands out the tensor's own memory (writes reach it) or a copy
 * (writes are lost); DJL asks libtorch through its package-private JNI binding, which this class calls. Where that
 * binding cannot be reached (DJL on the module path, or a DJL version without it), every tensor is reported as not
 * contiguous, so callers take their copying path: slower, never wrong.
 */
final class TorchTensors {
    private static final MethodHandle IS_CONTIGUOUS = findIsContiguous();

    private TorchTensors() { }

    private static MethodHandle findIsContiguous() {
        try {
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field instance = library.getDeclaredField("LIB");
            instance.setAccessible(true);
            Method method = library.getDeclaredMethod("torchIsContiguous", long.class);
            method.setAccessible(true);
            return MethodHandles.lookup().unreflect(method).bindTo(instance.get(null))
                    .asType(MethodType.methodType(boolean.class, long.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * @param a a libtorch array
     * @return whether its elements lie in row-major order without gaps, so that its buffer is its own memory;
     *     false when that cannot be asked
     */
    static boolean isContiguous(NDArray a) {
        if (IS_CONTIGUOUS == null || !(a instanceof PtNDArray)) {
            return false;
        }
        try {
            long handle = ((PtNDArray) a).getHandle();
            return (boolean) IS_CONTIGUOUS.invokeExact(handle);
        } catch (Throwable t) {
            if (t instanceof Error) {
                throw (Error) t;
            }
            return false;
        }
    }
}

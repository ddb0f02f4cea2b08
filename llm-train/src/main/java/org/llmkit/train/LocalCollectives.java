package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.List;
import org.llmkit.api.model.NoGradient;

/**
 * {@link Collectives} inside one process: copies between devices with {@code toDevice}, sums in rank order
 * (so every rank sees bit-identical results). Works for several logical ranks on one device and for several
 * devices of one machine; it is the reference a faster backend is checked against.
 */
final class LocalCollectives implements Collectives {

    @Override
    public void allReduce(List<NDArray> buffers) {
        try (NoGradient off = NoGradient.scope(); NDArray sum = buffers.get(0).duplicate()) {
            for (int r = 1; r < buffers.size(); r++) {
                addInto(sum, buffers.get(r));
            }
            for (NDArray b : buffers) {
                copyInto(b, sum);
            }
        }
    }

    @Override
    public void reduceScatter(List<NDArray> inputs, long[] counts, List<NDArray> outputs) {
        try (NoGradient off = NoGradient.scope()) {
            long offset = 0;
            for (int q = 0; q < counts.length; q++) {
                long n = counts[q];
                if (n > 0) {
                    NDArray out = outputs.get(q);
                    NDIndex piece = slice(offset, offset + n);
                    try (NDArray first = inputs.get(0).get(piece)) {
                        copyInto(out, first);
                    }
                    for (int r = 1; r < inputs.size(); r++) {
                        try (NDArray part = inputs.get(r).get(piece)) {
                            addInto(out, part);
                        }
                    }
                }
                offset += n;
            }
        }
    }

    @Override
    public void allGather(List<NDArray> inputs, long[] counts, List<NDArray> outputs) {
        try (NoGradient off = NoGradient.scope()) {
            for (NDArray out : outputs) {
                long offset = 0;
                for (int r = 0; r < counts.length; r++) {
                    long n = counts[r];
                    if (n > 0) {
                        try (NDArray target = out.get(slice(offset, offset + n))) {
                            copyInto(target, inputs.get(r));
                        }
                    }
                    offset += n;
                }
            }
        }
    }

    static NDIndex slice(long from, long to) {
        return new NDIndex("{}:{}", from, to);
    }

    // target += source, bringing source to target's device when they differ
    private static void addInto(NDArray target, NDArray source) {
        if (source.getDevice().equals(target.getDevice())) {
            target.addi(source);
        } else {
            try (NDArray moved = copyTo(source, target.getDevice())) {
                target.addi(moved);
            }
        }
    }

    // target[...] = source (same shape), across devices
    static void copyInto(NDArray target, NDArray source) {
        if (target == source) {
            return;
        }
        if (source.getDevice().equals(target.getDevice())) {
            target.set(new NDIndex("..."), source);
        } else {
            try (NDArray moved = copyTo(source, target.getDevice())) {
                target.set(new NDIndex("..."), moved);
            }
        }
    }

    /**
     * Copies an array to a device (a plain copy on the same device).
     *
     * @param x the array
     * @param device the target device
     * @return a new array in x's manager
     * @throws UnsupportedOperationException for a bfloat16 array going to another device: DJL 0.36 aborts the
     *     JVM there (DJL-NOTES trap 2)
     */
    static NDArray copyTo(NDArray x, ai.djl.Device device) {
        if (x.getDevice().equals(device)) {
            return x.duplicate();
        }
        if (x.getDataType() == ai.djl.ndarray.types.DataType.UNKNOWN) {
            throw new UnsupportedOperationException("moving bfloat16 arrays from " + x.getDevice() + " to " + device
                    + " is not implemented (DJL 0.36 aborts the JVM on it); use fp16() or ranks on one device");
        }
        return x.toDevice(device, true);
    }
}

package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;

/** The MLP activations HF configs name ({@code hidden_act} / {@code activation_function}). */
public final class Activations {
    private Activations() { }

    /**
     * Applies the named activation.
     *
     * @param name HF name
     * @param x input
     * @param c constants
     * @return activated array
     * @throws UnsupportedOperationException naming the supported activations when {@code name} is not one
     */
    public static NDArray apply(String name, NDArray x, Constants c) {
        return switch (name) {
            case "silu", "swish" -> x.mul(x.getNDArrayInternal().sigmoid());
            case "gelu" -> x.getNDArrayInternal().gelu();
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> geluTanh(x, c);
            case "relu" -> x.getNDArrayInternal().relu();
            // CLIP's x * sigmoid(1.702 x)
            case "quick_gelu" -> x.mul(x.mul(c.of(1.702f)).getNDArrayInternal().sigmoid());
            default -> throw new UnsupportedOperationException("activation '" + name
                    + "' is not supported; supported: silu, gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, relu");
        };
    }

    /**
     * @param name HF name
     * @return whether it names the tanh approximation of GELU ({@code gelu_new}, {@code gelu_pytorch_tanh},
     *     {@code gelu_fast})
     */
    public static boolean isGeluTanh(String name) {
        return switch (name) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> true;
            default -> false;
        };
    }

    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    private static NDArray geluTanh(NDArray x, Constants c) {
        NDArray cube = x.mul(x).mul(x);
        NDArray inner = x.add(cube.mul(c.of(0.044715f))).mul(c.of((float) Math.sqrt(2 / Math.PI)));
        return x.mul(c.of(0.5f)).mul(inner.getNDArrayInternal().tanh().add(c.of(1f)));
    }
}

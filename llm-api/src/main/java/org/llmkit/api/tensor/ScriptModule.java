package org.llmkit.api.tensor;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A TorchScript module built in memory from a {@link TorchScriptArchive} and loaded into libtorch, whose
 * methods are called with DJL arrays.
 *
 * <p>A method is chosen by an extra 0-dim input named {@code module_method:<name>} (DJL's
 * {@code IValueUtils} convention); calls run outside inference mode, so inside a gradient collector
 * gradients flow. Results belong to the manager of the first input. Thread-safe: the module is not
 * mutated after loading.
 */
public final class ScriptModule implements AutoCloseable {
    private final NDManager manager;
    private final PtSymbolBlock module;
    private final Map<String, NDArray> markers = new HashMap<>();
    private final String className;
    private volatile boolean closed;

    private ScriptModule(NDManager manager, PtSymbolBlock module, String className, List<String> methods) {
        this.manager = manager;
        this.module = module;
        this.className = className;
        for (String method : methods) {
            NDArray marker = manager.create(0f);
            marker.setName("module_method:" + method);
            markers.put(method, marker);
        }
    }

    /**
     * Loads an archive into libtorch (on the CPU manager of the PyTorch engine; the methods run on the
     * device of their inputs).
     *
     * @param archive the archive
     * @param methods names of the methods that will be called
     * @return the module; close it when done
     * @throws IllegalStateException when the PyTorch engine is missing or libtorch rejects the source
     *     (the message carries libtorch's, which points at the offending line)
     */
    public static ScriptModule load(TorchScriptArchive archive, List<String> methods) {
        NDManager manager = Engine.getEngine("PyTorch").newBaseManager();
        if (!(manager instanceof PtNDManager)) {
            manager.close();
            throw new IllegalStateException("TorchScript modules need DJL's PyTorch engine, found "
                    + manager.getClass().getName());
        }
        byte[] bytes = archive.toBytes();
        try {
            PtSymbolBlock module = JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(bytes), false,
                    false);
            return new ScriptModule(manager, module, archive.className(), methods);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw new IllegalStateException("libtorch did not load TorchScript class " + archive.className() + " ("
                    + bytes.length + " bytes): " + e.getMessage(), e);
        }
    }

    /**
     * Calls a method with a single tensor result, recording autograd as eager ops would. It runs in the plain
     * interpreter, as {@link #callInference} does: the profiling graph executor swaps in a specialised graph
     * after a few calls, whose backward may round differently, so the same step could give different gradients
     * depending on how many calls came before it. A resumed FP16 or BF16 run drifted from an uninterrupted one by
     * 2e-5 in its loss two steps after resuming, once the gated MLP ran through {@code swiglu} with the executor
     * on; in the interpreter they agree within 1e-6 (ResumeTest, LowPrecisionModelTest).
     *
     * @param method the method name (one of those given to {@link #load})
     * @param inputs its tensor arguments, in order; names are ignored
     * @return the result, in the first input's manager
     */
    public NDArray call(String method, NDArray... inputs) {
        JniUtils.setGraphExecutorOptimize(false);
        try {
            return run(method, true, inputs).singletonOrThrow();
        } finally {
            JniUtils.setGraphExecutorOptimize(GRAPH_OPTIMIZER_DEFAULT);
        }
    }

    /**
     * Calls a method under torch's inference mode: no autograd bookkeeping at all, so many small ops run
     * faster. The result is an inference tensor: fine as an input to later ops, never part of a gradient.
     *
     * @param method the method name
     * @param inputs its tensor arguments, in order
     * @return the result, in the first input's manager
     */
    public NDArray callInference(String method, NDArray... inputs) {
        // The profiling graph executor re-specialises a method for new input shapes (a decode step's key
        // length grows every step) and gains nothing on CPU without a fuser: run the plain interpreter.
        JniUtils.setGraphExecutorOptimize(false);
        try {
            return run(method, false, inputs).singletonOrThrow();
        } finally {
            JniUtils.setGraphExecutorOptimize(GRAPH_OPTIMIZER_DEFAULT);
        }
    }

    /**
     * Like {@link #callInference(String, NDArray...)}, for methods that also take lists of tensors: each
     * argument is an {@link NDArray} or an {@code NDArray[]} (passed as a {@code List[Tensor]}). One call
     * replaces many when a loop over the list runs inside the method.
     *
     * @param method the method name
     * @param result manager of the result
     * @param args arrays and arrays of arrays, in the method's order
     * @return the single tensor result
     */
    public NDArray callInferenceWithLists(String method, NDManager result, Object... args) {
        if (closed) {
            throw new IllegalStateException(className + " is closed; cannot run " + method);
        }
        IValue[] values = new IValue[args.length];
        JniUtils.setGraphExecutorOptimize(false);
        try {
            for (int i = 0; i < args.length; i++) {
                values[i] = args[i] instanceof NDArray[] list
                        ? IValue.listFrom(java.util.Arrays.stream(list).map(a -> (PtNDArray) a).toArray(PtNDArray[]::new))
                        : IValue.from((PtNDArray) args[i]);
            }
            try (IValue out = IValueUtils.runMethod(module, method, values)) {
                return out.toTensor((PtNDManager) result);
            }
        } finally {
            for (IValue v : values) {
                if (v != null) {
                    v.close();
                }
            }
            JniUtils.setGraphExecutorOptimize(GRAPH_OPTIMIZER_DEFAULT);
        }
    }

    /** DJL's setting for the thread-local graph-executor optimisation, restored after inference calls. */
    private static final boolean GRAPH_OPTIMIZER_DEFAULT =
            Boolean.parseBoolean(System.getProperty("ai.djl.pytorch.graph_optimizer", "true"));

    /**
     * Calls a method whose result is a tuple of tensors.
     *
     * @param method the method name
     * @param inputs its tensor arguments, in order
     * @return the results, in the first input's manager
     */
    public NDList callAll(String method, NDArray... inputs) {
        return run(method, true, inputs);
    }

    private NDList run(String method, boolean recordable, NDArray... inputs) {
        if (closed) {
            throw new IllegalStateException(className + " is closed; cannot run " + method);
        }
        NDArray marker = markers.get(method);
        if (marker == null) {
            throw new IllegalArgumentException(className + " has no method '" + method + "'; it has " + markers.keySet());
        }
        NDList list = new NDList(inputs.length + 1);
        for (NDArray input : inputs) {
            list.add(unnamed(input, inputs[0].getManager()));
        }
        list.add(marker);   // last: the result manager is the first input's
        return IValueUtils.forward(module, list, recordable);
    }

    /**
     * DJL turns named inputs into TorchScript dicts, lists or tuples (a name with a dot becomes a
     * {@code Dict[str, Tensor]}), so a named array (e.g. a parameter's) is passed as an unnamed view that
     * lives in the call's manager.
     */
    private static NDArray unnamed(NDArray input, NDManager callManager) {
        if (input.getName() == null) {
            return input;
        }
        NDArray view = input.reshape(input.getShape());
        view.attach(callManager);
        return view;
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return closed;
    }

    /** Frees the module. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        module.close();
        manager.close();
    }
}

/**
 * Reading and writing HuggingFace <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * checkpoints.
 *
 * <h2>File format</h2>
 * <pre>
 * bytes [0, 8)        N: header length, unsigned 64-bit little-endian
 * bytes [8, 8 + N)    header: UTF-8 JSON object, may be right-padded with spaces
 * bytes [8 + N, EOF)  data: every tensor little-endian, row-major (C order)
 * </pre>
 * The header maps each tensor name to {@code {"dtype": "F32", "shape": [512, 96],
 * "data_offsets": [begin, end]}}, with offsets relative to the first data byte, and may hold a
 * {@code "__metadata__"} object of string to string. A sharded checkpoint adds
 * {@code model.safetensors.index.json} whose {@code "weight_map"} maps each tensor name to the
 * shard file that holds it.
 *
 * <h2>Entry points</h2>
 * <ul>
 *   <li>{@link org.llmkit.api.io.SafeTensorsFile}: one validated file, tensors memory-mapped
 *       on demand.</li>
 *   <li>{@link org.llmkit.api.io.CheckpointFiles}: a whole model folder, sharded or not.</li>
 *   <li>{@link org.llmkit.api.io.SafeTensorsWriter}: writes files and shard indexes atomically
 *       through {@link org.llmkit.api.io.AtomicFiles}.</li>
 *   <li>{@link org.llmkit.api.io.Half}: F16 and BF16 conversions.</li>
 * </ul>
 */
package org.llmkit.api.io;

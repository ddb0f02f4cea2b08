package org.llmkit.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** The archive format: what libtorch reads, and how the zip is laid out. */
class TorchScriptArchiveTest {

    private static final List<String> TWICE =
            List.of("def twice(self, x: Tensor) -> Tensor:\n    return torch.add(x, x)\n");

    @Test
    void libtorchLoadsAnArchiveWrittenFromJavaAndRunsItsMethod() throws Exception {
        byte[] zip = TorchScriptArchive.of("Twice", TWICE).toBytes();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            PtSymbolBlock block =
                    JniUtils.loadModule(
                            (PtNDManager) m, new ByteArrayInputStream(zip), false, false);
            try {
                NDArray marker = m.create(0f);
                marker.setName("module_method:twice");
                NDArray x = m.create(new float[] {1f, -3f});
                NDList out = IValueUtils.forward(block, new NDList(x, marker), true);

                assertThat(JniUtils.getMethodNames(block)).containsExactly("twice");
                assertThat(out.singletonOrThrow().toFloatArray()).containsExactly(2f, -6f);
            } finally {
                block.close();
            }
        }
    }

    @Test
    void zipHasTheFourStoredRecordsWithData64ByteAligned(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("twice.pt");
        TorchScriptArchive.of("Twice", TWICE).writeTo(file);

        List<String> names = new ArrayList<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                names.add(e.getName());
                assertThat(e.getMethod()).isEqualTo(ZipEntry.STORED);
            }
            String version =
                    new String(
                            zip.getInputStream(zip.getEntry("archive/version")).readAllBytes(),
                            StandardCharsets.US_ASCII);
            assertThat(version.strip()).isEqualTo(TorchScriptArchive.FORMAT_VERSION);
        }
        assertThat(names)
                .containsExactly(
                        TorchScriptArchive.RECORDS.stream().map(r -> "archive/" + r).toArray(String[]::new));

        // walk the local headers: data offset = header + 30 + name + extra
        ByteBuffer bytes =
                ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int offset = 0;
        for (int i = 0; i < names.size(); i++) {
            assertThat(bytes.getInt(offset)).isEqualTo(0x04034b50);
            int size = bytes.getInt(offset + 18);
            int dataStart =
                    offset + 30 + bytes.getShort(offset + 26) + bytes.getShort(offset + 28);
            assertThat(dataStart % AlignedZipWriter.ALIGNMENT).as(names.get(i)).isZero();
            offset = dataStart + size;
        }
    }

    @Test
    void sourceDeclaresAModuleClassWithTheMethodsIndented() {
        String source = TorchScriptArchive.of("Twice", TWICE).source();

        assertThat(source)
                .startsWith("class Twice(Module):\n  __parameters__ = []\n  __buffers__ = []\n")
                .contains("  training : bool\n")
                .contains("  def twice(self, x: Tensor) -> Tensor:\n      return torch.add(x, x)\n");
    }

    @Test
    void rejectsClassNamesThatAreNotIdentifiersAndEmptyMethodLists() {
        assertThatThrownBy(() -> TorchScriptArchive.of("my-ops", TWICE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("my-ops");
        assertThatThrownBy(() -> TorchScriptArchive.of("Ops", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one method");
        assertThatThrownBy(() -> TorchScriptArchive.of("Ops", List.of("return 1")))
                .hasMessageContaining("must start with 'def '");
    }
}

#!/usr/bin/env python3
"""make_corpus.py - writes the seed corpora of the IDX, .npy and checkpoint harnesses:
small valid files and slightly broken ones, each named after what it is. The REPL's seeds are
scripts written by hand (corpus/repl). Run from anywhere; it rewrites corpus/{idx,npy,checkpoint}.
"""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(folder, name, data):
    path = os.path.join(HERE, "corpus", folder)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name), "wb") as f:
        f.write(data)


# ---- IDX: big-endian magic (0x801 labels, 0x803 images), dims, bytes ----------------------

def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


labels = idx(0x801, [5], [0, 1, 2, 3, 4])
images = idx(0x803, [2, 3, 4], range(24))
write("idx", "labels_5", labels)
write("idx", "images_2x3x4", images)
write("idx", "labels_5.gz", gzip.compress(labels, mtime=0))
write("idx", "images_2x3x4.gz", gzip.compress(images, mtime=0))
write("idx", "images_truncated", images[:-1])
write("idx", "labels_trailing_byte", labels + b"\x09")
write("idx", "bad_magic", idx(0x802, [5], [0] * 5))
write("idx", "zero_labels", idx(0x801, [0], []))
write("idx", "huge_dims_no_data", idx(0x803, [100000000, 4096, 4096], []))
write("idx", "header_cut", images[:6])
write("idx", "gzip_cut", gzip.compress(images, mtime=0)[:-9])

# ---- .npy: magic, version, little-endian header length, dict, data -------------------------

def npy(descr, shape, data, fortran=False, version=1):
    shape_text = "(" + "".join(f"{d}, " for d in shape).rstrip(" ") + ")"
    if len(shape) > 1:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ")"
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    length_bytes = 2 if version == 1 else 4
    pad = 64 - (6 + 2 + length_bytes + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin-1") + data


f4 = struct.pack("<6f", 1.5, -2, 0, 3.25, 1e30, -1e-30)
write("npy", "f4_2x3.npy", npy("<f4", [2, 3], f4))
write("npy", "f8_4.npy", npy("<f8", [4], struct.pack("<4d", 1, -0.5, 1e300, float("nan"))))
write("npy", "f8_scalar.npy", npy("<f8", [], struct.pack("<d", 2.5)))
write("npy", "i1_3.npy", npy("|i1", [3], bytes([0x80, 0, 0x7F])))
write("npy", "u2_2.npy", npy("<u2", [2], struct.pack("<2H", 0, 65535)))
write("npy", "i8_2.npy", npy("<i8", [2], struct.pack("<2q", -(2**63), 2**63 - 1)))
write("npy", "u8_1.npy", npy("<u8", [1], struct.pack("<Q", 2**64 - 1)))
write("npy", "b1_3.npy", npy("|b1", [3], bytes([1, 0, 2])))
write("npy", "empty_0.npy", npy("<f4", [0], b""))
write("npy", "v2_f4_2.npy", npy("<f4", [2], struct.pack("<2f", 1, 2), version=2))
write("npy", "v3_f4_2.npy", npy("<f4", [2], struct.pack("<2f", 1, 2), version=3))
write("npy", "rank8.npy", npy("<f4", [1] * 8, struct.pack("<f", 4)))
write("npy", "truncated.npy", npy("<f4", [2, 3], f4[:-2]))
write("npy", "bad_magic.npy", b"\x93NUMPX" + npy("<f4", [2, 3], f4)[6:])
write("npy", "fortran.npy", npy("<f4", [2, 3], f4, fortran=True))
write("npy", "big_endian.npy", npy(">f4", [2, 3], f4))
write("npy", "complex.npy", npy("<c8", [1], b"\0" * 8))
write("npy", "version_4.npy", npy("<f4", [1], b"\0" * 4)[:6] + b"\x04\x00" +
      npy("<f4", [1], b"\0" * 4)[8:])
write("npy", "shape_negative.npy", npy("<f4", [2], b"\0" * 8).replace(b"(2,)", b"(-2,)"))
write("npy", "shape_overflow.npy",
      npy("<f4", [2], b"\0" * 8).replace(b"(2,)", b"(99999999999, 99999999999)"))

# ---- checkpoints: docs/checkpoint.md ----------------------------------------------------

def string(s):
    return struct.pack("<H", len(s)) + s


def checkpoint(kind, config, tensors, version=1, crc=True, texts=None):
    header = string(kind) + struct.pack("<I", len(config))
    for key, value in config:
        header += string(key) + struct.pack("<q", value)
    if texts is not None:  # version 2
        header += struct.pack("<I", len(texts))
        for key, text in texts:
            header += string(key) + struct.pack("<I", len(text)) + text
    header += struct.pack("<I", len(tensors))
    body = b""
    for name, dims, dtype, values in tensors:
        body += string(name) + struct.pack("<I", len(dims))
        body += b"".join(struct.pack("<q", d) for d in dims) + struct.pack("<I", dtype)
        body += struct.pack("<%d%s" % (len(values), "f" if dtype == 1 else "d"), *values)
    data = b"GTCKPT\0\0" + struct.pack("<II", version, len(header)) + header + body
    return data + struct.pack("<I", zlib.crc32(data) if crc else 0)


mlp_config = [(b"hidden", 3), (b"layers", 2)]
weight = (b"fc.weight", [2, 3], 1, [0.5, -1, 2, 0, 1e-3, 7])
bias = (b"fc.bias", [2], 1, [1, -1])
write("checkpoint", "mlp.gtc", checkpoint(b"mlp", mlp_config, [weight, bias]))
write("checkpoint", "mlp_f64.gtc", checkpoint(b"mlp", mlp_config, [
    (b"fc.weight", [2, 3], 2, [0.5, -1, 2, 0, 1e-3, 7]), (b"fc.bias", [2], 2, [1, -1])]))
write("checkpoint", "mlp_extra.gtc", checkpoint(b"mlp", mlp_config + [(b"epoch", 12)], [
    weight, bias, (b"step", [], 1, [40])]))
write("checkpoint", "empty.gtc", checkpoint(b"x", [], []))
write("checkpoint", "truncated.gtc", checkpoint(b"mlp", mlp_config, [weight, bias])[:-7])
write("checkpoint", "bad_crc.gtc", checkpoint(b"mlp", mlp_config, [weight, bias], crc=False))
write("checkpoint", "version_3.gtc", checkpoint(b"mlp", mlp_config, [weight, bias], version=3,
                                                texts=[]))
write("checkpoint", "duplicate_tensor.gtc", checkpoint(b"mlp", mlp_config, [weight, weight]))
write("checkpoint", "rank_9.gtc", checkpoint(b"mlp", [], [(b"t", [1] * 9, 1, [1])]))
write("checkpoint", "wrong_shape.gtc", checkpoint(b"mlp", mlp_config, [
    (b"fc.weight", [3, 2], 1, [0] * 6), bias]))
write("checkpoint", "not_a_checkpoint", b"GTCKPX\0\0\1\0\0\0")

# Models as gt_model_save writes them (models/model_io.c): an MLP 3-2 with ReLU (act 0), with
# SGD momentum buffers or Adam moments, and an epoch entry.
mlp_model = [(b"act", 0), (b"layers", 2), (b"size0", 3), (b"size1", 2)]
fc1 = [(b"fc1.weight", [2, 3], 1, [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), (b"fc1.bias", [2], 1, [0, 1])]
write("checkpoint", "model_mlp_sgd.gtc", checkpoint(b"mlp", mlp_model + [
    (b"optimizer", 1), (b"optimizer.steps", 4), (b"epoch", 2)], fc1 + [
    (b"optimizer.momentum_buffer.0", [2, 3], 1, [1] * 6),
    (b"optimizer.momentum_buffer.1", [2], 1, [1, 2])]))
write("checkpoint", "model_mlp_adam.gtc", checkpoint(b"mlp", mlp_model + [
    (b"optimizer", 2), (b"optimizer.steps", 9)], fc1 + [
    (b"optimizer.exp_avg.0", [2, 3], 1, [0.5] * 6), (b"optimizer.exp_avg.1", [2], 1, [0, 0]),
    (b"optimizer.exp_avg_sq.0", [2, 3], 1, [0.25] * 6),
    (b"optimizer.exp_avg_sq.1", [2], 1, [0, 1])]))
write("checkpoint", "model_lenet_no_tensors.gtc", checkpoint(b"lenet", [(b"act", 2),
                                                                      (b"classes", 10)], []))

# Version 2: a model of a spec (kind "module"), its text entry "spec" and input shape, with
# its tensors by state_dict name; and one whose spec is not a spec.
spec_model = [(b"input.ndim", 3), (b"input.0", 1), (b"input.1", 2), (b"input.2", 2)]
spec_tensors = [(b"1.weight", [2, 4], 1, [0.5, -1, 2, 0, 1e-3, 7, 1, 1]),
                (b"1.bias", [2], 1, [1, -1])]
write("checkpoint", "model_spec.gtc", checkpoint(b"module", spec_model + [(b"optimizer", 1), (
    b"optimizer.steps", 1)], spec_tensors + [
    (b"optimizer.momentum_buffer.0", [2, 4], 1, [1] * 8),
    (b"optimizer.momentum_buffer.1", [2], 1, [1, 2])], version=2,
    texts=[(b"spec", b"Flatten Linear(2) ReLU")]))
write("checkpoint", "model_bad_spec.gtc", checkpoint(b"module", spec_model, spec_tensors,
                                                     version=2,
                                                     texts=[(b"spec", b"Flatten Linear(2")]))
write("checkpoint", "model_no_spec.gtc", checkpoint(b"module", spec_model, spec_tensors,
                                                    version=2, texts=[(b"other", b"")]))

# ---- .npz: zip archives of .npy members (numpy.savez, numpy.savez_compressed) -------------

def npz(members, compress=False, zip64=False):
    """A zip of (name, bytes) members, as Python's zipfile writes them (zip64: the local
    headers carry zip64 extra fields, as numpy's savez asks for with force_zip64)."""
    import io
    import zipfile
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(data)
    return buf.getvalue()


w_npy = npy("<f4", [2, 3], f4)
b_npy = npy("<f8", [2], struct.pack("<2d", 1, -1))
write("npz", "two.npz", npz([("fc.weight.npy", w_npy), ("fc.bias.npy", b_npy)]))
write("npz", "two_deflated.npz", npz([("fc.weight.npy", w_npy), ("fc.bias.npy", b_npy)], True))
write("npz", "two_zip64.npz", npz([("fc.weight.npy", w_npy), ("fc.bias.npy", b_npy)], False,
                                   True))
write("npz", "empty.npz", npz([]))
write("npz", "not_npy_member.npz", npz([("x.txt", b"hello")]))
write("npz", "bad_npy_member.npz", npz([("x.npy", npy("<f4", [2, 3], f4[:-2]))]))
write("npz", "duplicate.npz", npz([("a.npy", b_npy), ("a.npy", b_npy)]))
good = npz([("fc.weight.npy", w_npy)])
write("npz", "truncated.npz", good[:-30])
write("npz", "bad_crc.npz", good[:60] + bytes([good[60] ^ 1]) + good[61:])

"""Tiny, randomly initialised diffusers pipelines, saved with save_pretrained() like a real model folder.

Nothing is downloaded: the CLIP tokenizer gets a byte-level vocabulary built here (the 256 byte
symbols, their end-of-word forms and the two specials, no merges), which is enough for the real
CLIPTokenizer code path. Each folder is built once per test session (about a second after the
torch import) and then loaded by the renderers through DiffusionPipeline.from_pretrained(), the
same call a downloaded Stable Diffusion or Stable Video Diffusion folder goes through.
"""
from __future__ import annotations

from pathlib import Path

_BUILT: dict[str, Path] = {}


def _byte_symbols() -> list[str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def clip_tokenizer():
    from transformers import CLIPTokenizer

    symbols = _byte_symbols()
    vocab = {s: i for i, s in enumerate(symbols + [s + "</w>" for s in symbols])}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77), vocab


def tiny_sd(base: Path) -> Path:
    """A 64x64 Stable Diffusion pipeline (UNet 4/8 channels, 2-layer CLIP text encoder)."""
    if "sd" in _BUILT:
        return _BUILT["sd"]
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tok, vocab = clip_tokenizer()
    unet = UNet2DConditionModel(block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=2)
    vae = AutoencoderKL(block_out_channels=[4, 8], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, norm_num_groups=2)
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                                        pad_token_id=vocab["<|endoftext|>"], hidden_size=32, intermediate_size=64,
                                        num_attention_heads=4, num_hidden_layers=2, vocab_size=len(vocab)))
    sched = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text, tokenizer=tok, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    folder = base / "tiny-sd"
    pipe.save_pretrained(folder)
    _BUILT["sd"] = folder
    return folder


def tiny_svd(base: Path) -> Path:
    """A Stable Video Diffusion pipeline small enough for CPU tests (64x64, a few frames; 32 groups in its norms need 32+ channels)."""
    if "svd" in _BUILT:
        return _BUILT["svd"]
    import torch
    from diffusers import (AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, StableVideoDiffusionPipeline,
                           UNetSpatioTemporalConditionModel)
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=(2, 4), projection_class_embeddings_input_dim=96, addition_time_embed_dim=32)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D"] * 2, latent_channels=4)
    # the pipeline resizes the conditioning image to 224x224 for CLIP, so the encoder must take 224
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(hidden_size=32, projection_dim=32, num_hidden_layers=2,
                                                             num_attention_heads=4, image_size=224, intermediate_size=37,
                                                             patch_size=32))
    sched = EulerDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                                   interpolation_type="linear", num_train_timesteps=1000, prediction_type="v_prediction",
                                   sigma_max=700.0, sigma_min=0.002, steps_offset=1, timestep_spacing="leading",
                                   timestep_type="continuous", use_karras_sigmas=True)
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet, scheduler=sched,
                                        feature_extractor=CLIPImageProcessor(crop_size=224, size=224))
    folder = base / "tiny-svd"
    pipe.save_pretrained(folder)
    _BUILT["svd"] = folder
    return folder


def into_project(root: Path, folder: Path) -> str:
    """A copy of a model folder inside the project (models/<name>; a spec may name nothing outside it),
    as the brand spec writes it: relative to brands/."""
    import shutil

    dest = root / "models" / folder.name
    if folder.is_dir() and not dest.exists():
        shutil.copytree(folder, dest)
    return f"../models/{folder.name}"

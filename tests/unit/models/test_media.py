"""Media job models against the seed docs' samples: parsing, one-vs-many, request XML, JSON callbacks.

Samples are copied from /work/shared/seeds (S000 VideoEnhance, S001 Ultra-HD, S002 QualityEstimate,
S004 SmartCover, F003 = 003_9f6f444eb72c0a75.txt) with the PDF damage repaired (truncated closing tags,
``>>false``, split fences).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

import pytest
from pydantic import ValidationError

from ciflow.codec import decode_tree, from_xml, to_xml
from ciflow.models._common import JobDetail, JobInput, JobOutput, JobsQuery, JobState
from ciflow.models.callbacks import TaskFinish
from ciflow.models.media import (
    Animation,
    AnimationJobDetail,
    AnimationJobRequest,
    AnimationOperation,
    AnimationVideo,
    Audio,
    AudioMix,
    ColorEnhance,
    Container,
    DigitalWatermark,
    EffectConfig,
    MediaInfo,
    MediaJobsResponse,
    MsSharpen,
    QualityEstimateConfig,
    QualityEstimateJobDetail,
    QualityEstimateJobRequest,
    QualityEstimateOperation,
    SdrToHdr,
    SmartCover,
    SmartCoverJobDetail,
    SmartCoverJobRequest,
    SmartCoverOperation,
    Snapshot,
    SnapshotJobDetail,
    SnapshotJobRequest,
    SnapshotOperation,
    SpriteSnapshotConfig,
    SuperResolution,
    SuperResolutionJobDetail,
    TimeInterval,
    Transcode,
    TranscodeJobDetail,
    TranscodeJobRequest,
    TranscodeOperation,
    TransConfig,
    UltraHdTranscodeJobRequest,
    UltraHdTranscodeOperation,
    Video,
    VideoEnhance,
    VideoEnhanceJobDetail,
    VideoEnhanceJobRequest,
    VideoEnhanceOperation,
    Watermark,
    WatermarkText,
)
from tests.support.models import CHINA, xml_tree


def parse(body: str) -> MediaJobsResponse:
    return from_xml(MediaJobsResponse, body, root="Response")


# ---------------------------------------------------------------------------------------------------
# VideoEnhance (S000)
# ---------------------------------------------------------------------------------------------------

# S000:L672-L745 (Request 2: inline VideoEnhance parameters)
VIDEO_ENHANCE_REQUEST = """<Request>
<Tag>VideoEnhance</Tag>
<Input><Object>test.${ext}</Object></Input>
<Operation>
<VideoEnhance>
<Transcode>
<Container><Format>mp4</Format></Container>
<Video><Codec>H.264</Codec><Bitrate>1000</Bitrate><Width>1280</Width><Fps>30</Fps></Video>
<Audio><Codec>aac</Codec><Samplerate>44100</Samplerate><Bitrate>128</Bitrate><Channels>4</Channels></Audio>
</Transcode>
<SuperResolution><Resolution>sdtohd</Resolution><EnableScaleUp>true</EnableScaleUp><Version>Enhance</Version>
</SuperResolution>
<ColorEnhance><Contrast>50</Contrast><Correction>100</Correction><Saturation>100</Saturation></ColorEnhance>
<MsSharpen><SharpenLevel>5</SharpenLevel></MsSharpen>
<SDRtoHDR><HdrMode>HDR10</HdrMode></SDRtoHDR>
</VideoEnhance>
<Watermark>
<Type>Text</Type><LocMode>Absolute</LocMode><Dx>128</Dx><Dy>128</Dy><Pos>TopRight</Pos>
<StartTime>0</StartTime><EndTime>100.5</EndTime>
<Text><Text>Watermark content</Text><FontSize>30</FontSize><FontType>simfang.ttf</FontType>
<FontColor>0xRRGGBB</FontColor><Transparency>30</Transparency></Text>
</Watermark>
<DigitalWatermark><Type>Text</Type><Message>123456789ab</Message><Version>V1</Version>
<IgnoreError>false</IgnoreError></DigitalWatermark>
<Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.${ext}</Object></Output>
<UserData>This is my data.</UserData>
<JobLevel>0</JobLevel>
</Operation>
<CallBack>http://callback.demo.com</CallBack>
<CallBackFormat>JSON</CallBackFormat>
</Request>"""

# S000:L755-L840 (Response 2)
VIDEO_ENHANCE_RESPONSE = """<Response><JobsDetail>
<Code>Success</Code><Message/><JobId>je8f65004eb8511eaaed4f377124a303c</JobId><State>Submitted</State>
<Progress>0</Progress><CreationTime>2019-07-07T12:12:12+0800</CreationTime><StartTime>-</StartTime>
<EndTime>-</EndTime><QueueId>p2242ab62c7c94486915508540933a2c6</QueueId><Tag>VideoEnhance</Tag>
<Input><BucketId>test-123456789</BucketId><Object>input/demo.mp4</Object><Region>ap-chongqing</Region></Input>
<Operation>
<VideoEnhance>
<Transcode>
<Container><Format>mp4</Format></Container>
<Video><Codec>H.264</Codec><Bitrate>1000</Bitrate><Width>1280</Width><Fps>30</Fps></Video>
<Audio><Codec>aac</Codec><Samplerate>44100</Samplerate><Bitrate>128</Bitrate><Channels>4</Channels></Audio>
</Transcode>
<SuperResolution><Resolution>sdtohd</Resolution><EnableScaleUp>true</EnableScaleUp><Version>Enhance</Version>
</SuperResolution>
<ColorEnhance><Contrast>50</Contrast><Correction>100</Correction><Saturation>100</Saturation></ColorEnhance>
<MsSharpen><SharpenLevel>5</SharpenLevel></MsSharpen>
<SDRtoHDR><HdrMode>HDR10</HdrMode></SDRtoHDR>
</VideoEnhance>
<Watermark>
<Type>Text</Type><LocMode>Absolute</LocMode><Dx>128</Dx><Dy>128</Dy><Pos>TopRight</Pos>
<StartTime>0</StartTime><EndTime>100.5</EndTime>
<Text><Text>Watermark content</Text><FontSize>30</FontSize><FontType>simfang.ttf</FontType>
<FontColor>0xRRGGBB</FontColor><Transparency>30</Transparency></Text>
</Watermark>
<DigitalWatermark><State>Running</State><Type>Text</Type><Message>123456789ab</Message><Version>V1</Version>
<IgnoreError>false</IgnoreError></DigitalWatermark>
<Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.${ext}</Object></Output>
<UserData>This is my data.</UserData><JobLevel>0</JobLevel>
</Operation>
</JobsDetail></Response>"""


def test_video_enhance_submit_response_parses_all_in_one_container() -> None:
    response = parse(VIDEO_ENHANCE_RESPONSE)

    assert len(response.jobs_detail) == 1
    detail = response.jobs_detail[0]
    assert isinstance(detail, cast(type, VideoEnhanceJobDetail))
    assert detail.job_id == "je8f65004eb8511eaaed4f377124a303c"
    assert detail.state == "Submitted"
    assert detail.progress == 0
    assert detail.creation_time == datetime(2019, 7, 7, 12, 12, 12, tzinfo=CHINA)
    assert detail.start_time is None
    assert detail.end_time is None
    assert detail.message == ""
    assert detail.input is not None
    assert detail.input.bucket_id == "test-123456789"
    op = detail.operation
    assert op is not None
    assert op.video_enhance is not None
    enhance = op.video_enhance
    assert enhance.transcode is not None
    assert enhance.transcode.audio is not None
    assert enhance.transcode.audio.channels == 4
    assert enhance.transcode.video is not None
    assert enhance.transcode.video.width == 1280
    assert enhance.super_resolution == SuperResolution(resolution="sdtohd", enable_scale_up=True, version="Enhance")
    assert enhance.color_enhance == ColorEnhance(contrast=50, correction=100, saturation=100)
    assert enhance.ms_sharpen is not None
    assert enhance.ms_sharpen.sharpen_level == 5
    assert enhance.sdr_to_hdr is not None
    assert enhance.sdr_to_hdr.hdr_mode == "HDR10"
    assert len(op.watermark) == 1
    assert op.watermark[0].text is not None
    assert op.watermark[0].text.font_type == "simfang.ttf"
    assert op.watermark[0].end_time == 100.5
    assert op.watermark_template_id == []
    assert op.digital_watermark is not None
    assert op.digital_watermark.state == "Running"
    assert op.digital_watermark.ignore_error is False
    assert op.job_level == 0
    assert op.media_result is None
    assert not detail.finished


def test_video_enhance_request_built_in_python_matches_doc_sample() -> None:
    request = VideoEnhanceJobRequest(
        input=JobInput(object="test.${ext}"),
        operation=VideoEnhanceOperation(
            video_enhance=VideoEnhance(
                transcode=Transcode(
                    container=Container(format="mp4"),
                    video=Video(codec="H.264", bitrate="1000", width=1280, fps="30"),
                    audio=Audio(codec="aac", samplerate=44100, bitrate=128, channels=4),
                ),
                super_resolution=SuperResolution(resolution="sdtohd", enable_scale_up=True, version="Enhance"),
                color_enhance=ColorEnhance(contrast=50, correction=100, saturation=100),
                ms_sharpen=MsSharpen(sharpen_level=5),
                sdr_to_hdr=SdrToHdr(hdr_mode="HDR10"),
            ),
            watermark=[
                Watermark(
                    type="Text",
                    loc_mode="Absolute",
                    dx=128,
                    dy=128,
                    pos="TopRight",
                    start_time=0,
                    end_time=100.5,
                    text=WatermarkText(
                        text="Watermark content",
                        font_size=30,
                        font_type="simfang.ttf",
                        font_color="0xRRGGBB",
                        transparency=30,
                    ),
                )
            ],
            digital_watermark=DigitalWatermark(type="Text", message="123456789ab", version="V1", ignore_error=False),
            output=JobOutput(region="ap-chongqing", bucket="test-123456789", object="output/out.${ext}"),
            user_data="This is my data.",
            job_level=0,
        ),
        callback="http://callback.demo.com",
        callback_format="JSON",
    )

    body = to_xml(request, "Request")

    assert body.startswith(b"<?xml")
    assert xml_tree(body) == xml_tree(VIDEO_ENHANCE_REQUEST)


def test_video_enhance_request_round_trips_through_the_model() -> None:
    request = from_xml(VideoEnhanceJobRequest, VIDEO_ENHANCE_REQUEST, root="Request")

    assert request.tag == "VideoEnhance"
    assert request.operation.video_enhance is not None
    assert request.operation.video_enhance.sdr_to_hdr == SdrToHdr(hdr_mode="HDR10")
    assert xml_tree(to_xml(request)) == xml_tree(VIDEO_ENHANCE_REQUEST)


def test_video_enhance_template_sample_keeps_transcode_template_id_and_watermark_ids() -> None:
    # S000:L624-L662 (Response 1): two WatermarkTemplateId elements are a list of two.
    body = """<Response><JobsDetail><Code>Success</Code><Message/>
    <JobId>je8f65004eb8511eaaed4f377124a303c</JobId><State>Submitted</State><Progress>0</Progress>
    <Tag>VideoEnhance</Tag><Operation>
    <TemplateId>t1460606b9752148c4ab182f55163ba7cd</TemplateId><TemplateName>VideoEnhance_demo</TemplateName>
    <WatermarkTemplateId>t146d70eb241c44c63b6efc1cc93ccfc5d</WatermarkTemplateId>
    <WatermarkTemplateId>t12a74d11687d444deba8a6cc52051ac27</WatermarkTemplateId>
    </Operation></JobsDetail></Response>"""

    detail = parse(body).jobs_detail[0]

    assert isinstance(detail, cast(type, VideoEnhanceJobDetail))
    assert detail.operation is not None
    assert detail.operation.template_name == "VideoEnhance_demo"
    assert detail.operation.watermark_template_id == [
        "t146d70eb241c44c63b6efc1cc93ccfc5d",
        "t12a74d11687d444deba8a6cc52051ac27",
    ]


def test_video_enhance_frame_enhance_serialises() -> None:
    op = VideoEnhanceOperation.model_validate({"VideoEnhance": {"FrameEnhance": {"FrameDoubling": "true"}}})

    assert op.video_enhance is not None
    assert op.video_enhance.frame_enhance is not None
    assert op.video_enhance.frame_enhance.frame_doubling is True
    assert xml_tree(to_xml(op, "Operation")) == {"VideoEnhance": {"FrameEnhance": {"FrameDoubling": "true"}}}


# ---------------------------------------------------------------------------------------------------
# Transcode / Ultra-HD (S001, F003)
# ---------------------------------------------------------------------------------------------------

# S001:L579-L605
ULTRA_HD_REQUEST = """<Request>
<Tag>Transcode</Tag>
<Input><Object>input/demo.mp4</Object></Input>
<Operation>
<TemplateId>t1460606b9752148c4ab182f55163ba7cd</TemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe22</WatermarkTemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe23</WatermarkTemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe24</WatermarkTemplateId>
<DigitalWatermark><Type>Text</Type><Message>123456789ab</Message><Version>V1</Version>
<IgnoreError>false</IgnoreError></DigitalWatermark>
<Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.${ext}</Object></Output>
<UserData>This is my data.</UserData>
<JobLevel>0</JobLevel>
</Operation>
<CallBack>http://callback.demo.com</CallBack>
<CallBackFormat>JSON</CallBackFormat>
</Request>"""

# S001:L617-L656
ULTRA_HD_RESPONSE = """<Response><JobsDetail>
<Code>Success</Code><Message/><JobId>j8d121820f5e411ec926ef19d53ba9c6f</JobId><State>Submitted</State>
<Progress>0</Progress><CreationTime>2022-06-27T15:23:11+0800</CreationTime><StartTime>-</StartTime>
<EndTime>-</EndTime><QueueId>p2242ab62c7c94486915508540933a2c6</QueueId><Tag>Transcode</Tag>
<Input><BucketId>test-123456789</BucketId><Object>input/demo.mp4</Object><Region>ap-chongqing</Region></Input>
<Operation>
<TemplateId>t1460606b9752148c4ab182f55163ba7cd</TemplateId><TemplateName>high_993874</TemplateName>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe22</WatermarkTemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe23</WatermarkTemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe24</WatermarkTemplateId>
<DigitalWatermark><Type>Text</Type><Message>123456789ab</Message><Version>V1</Version>
<IgnoreError>false</IgnoreError><State>Running</State></DigitalWatermark>
<Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.${ext}</Object></Output>
<UserData>This is my data.</UserData><JobLevel>0</JobLevel>
</Operation>
</JobsDetail></Response>"""


def test_ultra_hd_request_matches_doc_sample() -> None:
    request = UltraHdTranscodeJobRequest(
        input=JobInput(object="input/demo.mp4"),
        operation=UltraHdTranscodeOperation(
            template_id="t1460606b9752148c4ab182f55163ba7cd",
            watermark_template_id=[
                "t1318c5f428d474afba1797f84091cbe22",
                "t1318c5f428d474afba1797f84091cbe23",
                "t1318c5f428d474afba1797f84091cbe24",
            ],
            digital_watermark=DigitalWatermark(type="Text", message="123456789ab", version="V1", ignore_error=False),
            output=JobOutput(region="ap-chongqing", bucket="test-123456789", object="output/out.${ext}"),
            user_data="This is my data.",
            job_level=0,
        ),
        callback="http://callback.demo.com",
        callback_format="JSON",
    )

    assert request.tag == "Transcode"
    assert xml_tree(to_xml(request)) == xml_tree(ULTRA_HD_REQUEST)


def test_ultra_hd_operation_requires_template_id() -> None:
    with pytest.raises(ValidationError, match=r"template_id|TemplateId"):
        UltraHdTranscodeOperation(output=JobOutput(region="ap-chongqing", bucket="b-1", object="o.mp4"))


def test_ultra_hd_response_is_a_transcode_detail() -> None:
    detail = parse(ULTRA_HD_RESPONSE).jobs_detail[0]

    assert isinstance(detail, cast(type, TranscodeJobDetail))
    assert detail.operation is not None
    assert detail.operation.template_name == "high_993874"
    assert len(detail.operation.watermark_template_id) == 3
    assert detail.operation.digital_watermark is not None
    assert detail.operation.digital_watermark.state == "Running"
    assert detail.queue_id == "p2242ab62c7c94486915508540933a2c6"


# F003 L25548-L25610 (Request 2, inline transcoding parameters; ``>>true`` and the cut AudioSource repaired)
TRANSCODE_INLINE_REQUEST = """<Request>
<Tag>Transcode</Tag>
<Input><Object>input/demo.mp4</Object></Input>
<Operation>
<Transcode>
<Container><Format>mp4</Format></Container>
<Video><Codec>H.264</Codec><Profile>high</Profile><Bitrate>1000</Bitrate><Width>1280</Width><Fps>30</Fps>
<Preset>medium</Preset></Video>
<Audio><Codec>aac</Codec><Samplerate>44100</Samplerate><Bitrate>128</Bitrate><Channels>4</Channels></Audio>
<TransConfig><AdjDarMethod>scale</AdjDarMethod><IsCheckReso>false</IsCheckReso><ResoAdjMethod>1</ResoAdjMethod>
</TransConfig>
<TimeInterval><Start>0</Start><Duration>60</Duration></TimeInterval>
<AudioMix>
<AudioSource>https://test-xxx.cos.ap-chongqing.myqcloud.com/mix.mp3</AudioSource>
<MixMode>Once</MixMode><Replace>true</Replace>
<EffectConfig><EnableStartFadein>true</EnableStartFadein><StartFadeinTime>3</StartFadeinTime>
<EnableEndFadeout>false</EnableEndFadeout><EndFadeoutTime>0</EndFadeoutTime><EnableBgmFade>true</EnableBgmFade>
<BgmFadeTime>1.7</BgmFadeTime></EffectConfig>
</AudioMix>
</Transcode>
<Watermark><Type>Text</Type><LocMode>Absolute</LocMode><Dx>128</Dx><Dy>128</Dy><Pos>TopRight</Pos>
<StartTime>0</StartTime><EndTime>100.5</EndTime>
<Text><Text>Watermark content</Text><FontSize>30</FontSize><FontType>simfang.ttf</FontType>
<FontColor>0xRRGGBB</FontColor><Transparency>30</Transparency></Text></Watermark>
<DigitalWatermark><Type>Text</Type><Message>123456789ab</Message><Version>V1</Version>
<IgnoreError>false</IgnoreError></DigitalWatermark>
<Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.mp4</Object></Output>
<UserData>This is my data.</UserData><JobLevel>0</JobLevel>
</Operation>
<QueueId>p2242ab62c7c94486915508540933a2c6</QueueId>
<CallBack>http://callback.demo.com</CallBack>
<CallBackFormat>JSON</CallBackFormat>
</Request>"""


def test_transcode_inline_request_matches_doc_sample() -> None:
    request = TranscodeJobRequest(
        input=JobInput(object="input/demo.mp4"),
        operation=TranscodeOperation(
            transcode=Transcode(
                container=Container(format="mp4"),
                video=Video(codec="H.264", profile="high", bitrate="1000", width=1280, fps="30", preset="medium"),
                audio=Audio(codec="aac", samplerate=44100, bitrate=128, channels=4),
                trans_config=TransConfig(adj_dar_method="scale", is_check_reso=False, reso_adj_method=1),
                time_interval=TimeInterval(start=0, duration=60),
                audio_mix=[
                    AudioMix(
                        audio_source="https://test-xxx.cos.ap-chongqing.myqcloud.com/mix.mp3",
                        mix_mode="Once",
                        replace=True,
                        effect_config=EffectConfig(
                            enable_start_fadein=True,
                            start_fadein_time=3,
                            enable_end_fadeout=False,
                            end_fadeout_time=0,
                            enable_bgm_fade=True,
                            bgm_fade_time=1.7,
                        ),
                    )
                ],
            ),
            watermark=[
                Watermark(
                    type="Text",
                    loc_mode="Absolute",
                    dx=128,
                    dy=128,
                    pos="TopRight",
                    start_time=0,
                    end_time=100.5,
                    text=WatermarkText(
                        text="Watermark content",
                        font_size=30,
                        font_type="simfang.ttf",
                        font_color="0xRRGGBB",
                        transparency=30,
                    ),
                )
            ],
            digital_watermark=DigitalWatermark(type="Text", message="123456789ab", version="V1", ignore_error=False),
            output=JobOutput(region="ap-chongqing", bucket="test-123456789", object="output/out.mp4"),
            user_data="This is my data.",
            job_level=0,
        ),
        queue_id="p2242ab62c7c94486915508540933a2c6",
        callback="http://callback.demo.com",
        callback_format="JSON",
    )

    assert xml_tree(to_xml(request)) == xml_tree(TRANSCODE_INLINE_REQUEST)


def test_transcode_audio_mix_one_element_and_array_of_two() -> None:
    # F003 L43440-L43493: a template's two AudioMixArray elements; the job sample has one AudioMix.
    transcode = Transcode.model_validate(
        {
            "AudioMix": {"AudioSource": "https://b.cos/mix.mp3", "MixMode": "Once"},
            "AudioMixArray": [
                {"AudioSource": "https://b.cos/mix1.mp3", "Replace": "true"},
                {"AudioSource": "https://b.cos/mix2.mp3", "EffectConfig": {"BgmFadeTime": "1.7"}},
            ],
            "TransConfig": {"HlsEncrypt": {"IsHlsEncrypt": "true", "UriKey": "https://key"}},
            "Container": {"Format": "hls", "ClipConfig": {"Duration": "5"}},
        }
    )

    assert [mix.audio_source for mix in transcode.audio_mix] == ["https://b.cos/mix.mp3"]
    assert len(transcode.audio_mix_array) == 2
    assert transcode.audio_mix_array[0].replace is True
    assert transcode.audio_mix_array[1].effect_config is not None
    assert transcode.audio_mix_array[1].effect_config.bgm_fade_time == 1.7
    assert transcode.trans_config is not None
    assert transcode.trans_config.hls_encrypt is not None
    assert transcode.trans_config.hls_encrypt.is_hls_encrypt is True
    assert transcode.container is not None
    assert transcode.container.clip_config is not None
    assert transcode.container.clip_config.duration == 5


# F003 L28790-L28915 (DescribeMediaJob of a finished Transcode job; ``</Message>`` and cut tags repaired)
TRANSCODE_FINISHED = """<Response><JobsDetail>
<Code>Success</Code><Message/><JobId>j9c0a4726f6ac11ec96aaa9b64ab18d00</JobId><State>Success</State>
<Progress>100</Progress><CreationTime>2022-06-27T15:23:12+0800</CreationTime>
<StartTime>2022-06-27T15:23:13+0800</StartTime><EndTime>2022-06-27T15:24:33+0800</EndTime>
<QueueId>p2242ab62c7c94486915508540933a2c6</QueueId><Tag>Transcode</Tag>
<Input><BucketId>test-123456789</BucketId><Object>input/demo.mp4</Object><Region>ap-chongqing</Region></Input>
<Operation>
<TemplateId>t1460606b9752148c4ab182f55163ba7cd</TemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe22</WatermarkTemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe23</WatermarkTemplateId>
<WatermarkTemplateId>t1318c5f428d474afba1797f84091cbe24</WatermarkTemplateId>
<RemoveWatermark><Dx>150</Dx><Dy>150</Dy><Width>75</Width><Height>75</Height></RemoveWatermark>
<DigitalWatermark><Type>Text</Type><Message>123456789ab</Message><Version>V1</Version>
<IgnoreError>false</IgnoreError><State>Running</State></DigitalWatermark>
<Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.mp4</Object></Output>
<UserData>This is my data.</UserData><JobLevel>0</JobLevel>
<MediaInfo>
<Format><Bitrate>834.736000</Bitrate><Duration>13.654000</Duration>
<FormatLongName>QuickTime / MOV</FormatLongName>
<FormatName>mov,mp4,m4a,3gp,3g2,mj2</FormatName><NumProgram>0</NumProgram><NumStream>2</NumStream>
<Size>1424687</Size><StartTime>0.000000</StartTime></Format>
<Stream>
<Audio><Bitrate>104.047000</Bitrate><Channel>2</Channel><ChannelLayout>stereo</ChannelLayout>
<CodecLongName>AAC (Advanced Audio Coding)</CodecLongName><CodecName>aac</CodecName>
<CodecTag>0x6134706d</CodecTag>
<CodecTagString>mp4a</CodecTagString><CodecTimeBase>1/44100</CodecTimeBase><Duration>13.653311</Duration>
<Index>1</Index><Language>und</Language><SampleFmt>fltp</SampleFmt><SampleRate>44100</SampleRate>
<StartTime>0.000000</StartTime><Timebase>1/44100</Timebase></Audio>
<Subtitle/>
<Video><AvgFps>25.000000</AvgFps><Bitrate>763.774000</Bitrate>
<CodecLongName>H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10</CodecLongName><CodecName>h264</CodecName>
<CodecTag>0x31637661</CodecTag><CodecTagString>avc1</CodecTagString><CodecTimeBase>1/12800</CodecTimeBase>
<ColorPrimaries>bt470bg</ColorPrimaries><ColorRange>tv</ColorRange><ColorTransfer>smppte170m</ColorTransfer>
<Duration>12.960000</Duration><Fps>25.000000</Fps><HasBFrame>0</HasBFrame><Height>960</Height><Index>0</Index>
<Language>und</Language><Level>10</Level><NumFrames>324</NumFrames><PixFormat>yuv420p</PixFormat>
<Profile>High</Profile><RefFrames>1</RefFrames><Rotation>0.000000</Rotation><StartTime>0.000000</StartTime>
<Timebase>1/12800</Timebase><Width>544</Width></Video>
</Stream>
</MediaInfo>
<MediaResult><OutputFile><Bucket>test-123456789</Bucket><Region>ap-chongqing</Region>
<ObjectName>output/out.mp4</ObjectName>
<Md5Info><Md5>3df1f845d2ffd20a525a93ec40014d90</Md5><ObjectName>output/out.mp4</ObjectName></Md5Info>
</OutputFile></MediaResult>
</Operation>
</JobsDetail></Response>"""


def test_describe_finished_transcode_job_parses_media_info_and_result() -> None:
    detail = parse(TRANSCODE_FINISHED).jobs_detail[0]

    assert isinstance(detail, cast(type, TranscodeJobDetail))
    assert detail.finished
    assert detail.succeeded
    assert detail.progress == 100
    assert detail.end_time == datetime(2022, 6, 27, 15, 24, 33, tzinfo=CHINA)
    op = detail.operation
    assert op is not None
    assert op.remove_watermark is not None
    assert op.remove_watermark.width == 75
    info = op.media_info
    assert info is not None
    assert info.format is not None
    assert info.stream is not None
    assert info.format.bitrate == pytest.approx(834.736)
    assert info.format.size == 1424687
    assert info.format.num_stream == 2
    assert len(info.stream.video) == 1
    assert len(info.stream.audio) == 1
    assert info.stream.subtitle == []  # <Subtitle/>
    video = info.stream.video[0]
    assert (video.width, video.height, video.num_frames) == (544, 960, 324)
    assert video.pix_format == "yuv420p"
    assert video.pixel_format is None
    assert video.pix_fmt == "yuv420p"
    assert video.rotation == 0
    assert video.fps == "25.000000"
    assert info.stream.audio[0].sample_rate == 44100
    result = op.media_result
    assert result is not None
    assert result.output_file is not None
    assert result.output_file.object_name == ["output/out.mp4"]
    assert len(result.output_file.md5_info) == 1
    assert result.output_file.md5_info[0].md5 == "3df1f845d2ffd20a525a93ec40014d90"
    assert result.output_keys == ["output/out.mp4"]
    assert result.sprite_keys == []


def test_media_info_accepts_pixel_format_spelling_and_repeated_streams() -> None:
    # GetMediaInfo sample (F003 L11415-L11481) spells it PixelFormat; two audio tracks repeat <Audio>.
    body = """<Response><MediaInfo>
    <Format><Bitrate>1014.950000</Bitrate><Duration>10.125000</Duration><NumStream>3</NumStream></Format>
    <Stream>
      <Audio><Index>1</Index><Channel>1</Channel><ChannelLayout>mono</ChannelLayout></Audio>
      <Audio><Index>2</Index><Channel>2</Channel><Language>eng</Language></Audio>
      <Subtitle/>
      <Video><Index>0</Index><AvgFps>24/1</AvgFps><Fps>24.500000</Fps><Level>1.000</Level>
      <PixelFormat>yuv420p</PixelFormat><HasBFrame>2</HasBFrame></Video>
    </Stream>
    </MediaInfo></Response>"""

    info = decode_tree(MediaInfo, xml_tree(body)["MediaInfo"])

    assert info.stream is not None
    assert [audio.index for audio in info.stream.audio] == [1, 2]
    assert info.stream.audio[1].language == "eng"
    video = info.stream.video[0]
    assert video.pix_format is None
    assert video.pixel_format == "yuv420p"
    assert video.pix_fmt == "yuv420p"
    assert video.avg_fps == "24/1"
    assert video.level == "1.000"
    assert video.has_b_frame == 2


# F003 L35050-L35177 (Transcode callback in JSON, triggered by a workflow)
TRANSCODE_JSON_CALLBACK = """{
  "EventName": "TaskFinish",
  "JobsDetail": [{
    "Code": "Success",
    "CreationTime": "2022-06-30T15:29:42+0800",
    "EndTime": "2022-06-30T15:30:08+0800",
    "Input": {"BucketId": "test-123456789", "Object": "input/demo.mp4", "Region": "ap-chongqing",
              "CosHeaders": [{"Key": "Content-Type", "Value": "video/mp4"},
                             {"Key": "Size", "Value": "1424687"}]},
    "JobId": "j68427030f84611ecb8546d80f2baf56f",
    "Message": "success",
    "Operation": {
      "MediaInfo": {
        "Format": {"Duration": "13", "NumStream": "1", "Size": "1909389"},
        "Stream": {
          "Audio": {"Bitrate": "128000", "Channel": "2", "CodecName": "aac", "Index": "1",
                    "SampleRate": "44100"},
          "Video": {"AvgFps": "50.000", "Bitrate": "1031968", "CodecName": "hevc", "Fps": "50/1",
                    "HasBFrame": "4", "Height": "960", "Index": "0", "Level": "4", "NumFrames": "648",
                    "PixFormat": "hvc1", "Rotation": "0", "Width": "540"}
        }
      },
      "MediaResult": {"OutputFile": {"Bucket": "test-123456789",
                                     "Md5Info": {"Md5": "2db78d168edf2f883adce89a1b4ca033",
                                                 "ObjectName": "output/transcode.mp4"},
                                     "ObjectName": "output/transcode.mp4", "Region": "ap-chongqing"}},
      "Output": {"Bucket": "test-123456789", "Object": "output/transcode.mp4", "Region": "ap-chongqing"},
      "TemplateId": "t1995d523e42df4c5e858f244b4174360c",
      "TemplateName": "trans_993874",
      "UserData": "This is my Transcode job."
    },
    "Progress": "100",
    "QueueId": "p2242ab62c7c94486915508540933a2c6",
    "StartTime": "2022-06-30T15:29:42+0800",
    "State": "Success",
    "Tag": "Transcode",
    "Workflow": {"Name": "Transcode_1581665960537", "RunId": "ic90edd59f84f11ec9d4f525400a3c59f",
                 "WorkflowId": "web6ac56c1ef54dbfa44d7f4103203be9", "WorkflowName": "workflow-test"}
  }]
}"""


def test_transcode_json_callback_validates_with_collapsed_arrays() -> None:
    callback = decode_tree(TaskFinish, json.loads(TRANSCODE_JSON_CALLBACK))

    assert callback.event_name == "TaskFinish"
    detail = callback.jobs_detail[0]
    assert isinstance(detail, cast(type, TranscodeJobDetail))
    assert detail.progress == 100
    assert detail.workflow is not None
    assert detail.workflow.run_id == "ic90edd59f84f11ec9d4f525400a3c59f"
    assert detail.input is not None
    assert [h.key for h in detail.input.cos_headers] == ["Content-Type", "Size"]
    op = detail.operation
    assert op is not None
    assert op.media_info is not None
    assert op.media_info.stream is not None
    video = op.media_info.stream.video[0]
    assert video.fps == "50/1"
    assert video.pix_fmt == "hvc1"
    assert video.bitrate == 1031968
    assert op.media_result is not None
    assert op.media_result.output_file is not None
    assert op.media_result.output_file.md5_info[0].object_name == "output/transcode.mp4"
    assert op.media_result.output_keys == ["output/transcode.mp4"]


# ---------------------------------------------------------------------------------------------------
# Snapshot (F003)
# ---------------------------------------------------------------------------------------------------

# F003 L33531-L33595 (Snapshot callback triggered by a job API; split fences and </Output> opener repaired)
SNAPSHOT_CALLBACK = """<Response>
<EventName>TaskFinish</EventName>
<JobsDetail>
<Code>Success</Code><CreationTime>2022-06-30T19:25:11+0800</CreationTime>
<EndTime>2022-06-30T19:25:14+0800</EndTime>
<Input><BucketId>test-123456789</BucketId><Object>input/demo.mp4</Object><Region>ap-chongqing</Region></Input>
<JobId>j4e431ba0f86711ecb8546d80f2baf56f</JobId>
<Message/>
<Operation>
<MediaInfo><Format/><Stream><Audio/><Subtitle/><Video/></Stream></MediaInfo>
<MediaResult><OutputFile>
<Bucket>test-123456789</Bucket><Md5Info/>
<ObjectName>0.jpg</ObjectName><ObjectName>1.jpg</ObjectName><ObjectName>2.jpg</ObjectName>
<ObjectName>3.jpg</ObjectName><ObjectName>4.jpg</ObjectName><ObjectName>5.jpg</ObjectName>
<ObjectPrefix>output/snapshot-</ObjectPrefix><Region>ap-chongqing</Region>
<SpriteOutputFile><Bucket>test-123456789</Bucket><Md5Info/><ObjectName>0.jpg</ObjectName>
<ObjectPrefix>output/sprite-</ObjectPrefix><Region>ap-chongqing</Region></SpriteOutputFile>
</OutputFile></MediaResult>
<Output><Bucket>test-123456789</Bucket><Object>output/snapshot-${Number}.jpg</Object><Region>ap-chongqing</Region>
<SpriteObject>output/sprite-${Number}.jpg</SpriteObject></Output>
<TemplateId>t1f16e1dfbdc9ds4105b31632d45710642a</TemplateId><TemplateName>template_snapshot</TemplateName>
<UserData>This is my Snapshot job.</UserData>
</Operation>
<QueueId>p2242ab62c7c94486915508540933a2c6</QueueId><StartTime>2022-06-30T19:25:12+0800</StartTime>
<State>Success</State><Tag>Snapshot</Tag>
</JobsDetail>
</Response>"""


def test_snapshot_callback_gives_prefix_plus_name_keys() -> None:
    callback = from_xml(TaskFinish, SNAPSHOT_CALLBACK, root="Response")

    assert callback.event_name == "TaskFinish"
    detail = callback.jobs_detail[0]
    assert isinstance(detail, cast(type, SnapshotJobDetail))
    op = detail.operation
    assert op is not None
    assert op.media_result is not None
    assert op.media_result.output_keys == [f"output/snapshot-{i}.jpg" for i in range(6)]
    assert op.media_result.sprite_keys == ["output/sprite-0.jpg"]
    assert op.media_result.output_file is not None
    assert op.media_result.output_file.md5_info == []  # <Md5Info/>
    assert op.output is not None
    assert op.output.sprite_object == "output/sprite-${Number}.jpg"
    # The empty MediaInfo of a snapshot job: every part present but empty.
    assert op.media_info is not None
    assert op.media_info.format is not None
    assert op.media_info.format.duration is None
    assert op.media_info.stream is not None
    assert op.media_info.stream.video == []
    assert op.template_name == "template_snapshot"


def test_snapshot_json_callback_with_array_and_single_sprite_name() -> None:
    # F003 L33697-L33781 (JSON, workflow-triggered): JobsDetail is an array, sprite ObjectName a scalar.
    body = {
        "EventName": "TaskFinish",
        "JobsDetail": [
            {
                "Code": "Success",
                "JobId": "j4e431ba0f86711ecb8546d80f2baf56f",
                "Operation": {
                    "MediaInfo": {"Stream": {}},
                    "MediaResult": {
                        "OutputFile": {
                            "Bucket": "test-123456789",
                            "ObjectName": ["0.jpg", "1.jpg", "2.jpg", "3.jpg", "4.jpg", "5.jpg"],
                            "ObjectPrefix": "output/snapshot-",
                            "Region": "ap-chongqing",
                            "SpriteOutputFile": {
                                "Bucket": "test-123456789",
                                "ObjectName": "0.jpg",
                                "ObjectPrefix": "output/sprite-",
                                "Region": "ap-chongqing",
                            },
                        }
                    },
                    "Output": {
                        "Bucket": "test-123456789",
                        "Object": "output/snapshot-${Number}.jpg",
                        "Region": "ap-chongqing",
                        "SpriteObject": "output/sprite-${Number}.jpg",
                    },
                    "TemplateId": "t1f16e1dfbdc9ds4105b31632d45710642a",
                    "UserData": "This is my Snapshot job.",
                },
                "State": "Success",
                "Tag": "Snapshot",
                "Workflow": {"Name": "Snapshot_1581665960537", "WorkflowName": "workflow-test"},
            }
        ],
    }

    detail = decode_tree(MediaJobsResponse, body).jobs_detail[0]

    assert isinstance(detail, cast(type, SnapshotJobDetail))
    assert detail.operation is not None
    assert detail.operation.media_result is not None
    assert len(detail.operation.media_result.output_keys) == 6
    assert detail.operation.media_result.sprite_keys == ["output/sprite-0.jpg"]
    assert detail.operation.media_info is not None
    assert detail.operation.media_info.format is None


def test_snapshot_request_with_sprite_config_matches_doc_sample() -> None:
    # F003 L24045-L24080 (Request 2, screenshot processing parameters)
    expected = """<Request><Tag>Snapshot</Tag><Input><Object>input/demo.mp4</Object></Input>
    <Operation>
    <Snapshot><BlackLevel>0</BlackLevel><Count>10</Count><IsCheckBlack>false</IsCheckBlack>
    <IsCheckCount>false</IsCheckCount><Mode>Interval</Mode><PixelBlackThreshold>0</PixelBlackThreshold>
    <SnapshotOutMode>SnapshotAndSprite</SnapshotOutMode>
    <SpriteSnapshotConfig><Color>Azure</Color><Columns>3</Columns><Lines>2</Lines></SpriteSnapshotConfig>
    <Start>1</Start><TimeInterval>2</TimeInterval></Snapshot>
    <Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket>
    <Object>output/snapshot-${Number}.jpg</Object><SpriteObject>output/sprite-${Number}.jpg</SpriteObject></Output>
    <UserData>This is my data.</UserData><JobLevel>0</JobLevel>
    </Operation>
    <QueueId>p2242ab62c7c94486915508540933a2c6</QueueId>
    <CallBack>http://callback.demo.com</CallBack><CallBackFormat>JSON</CallBackFormat>
    </Request>"""
    request = SnapshotJobRequest(
        input=JobInput(object="input/demo.mp4"),
        operation=SnapshotOperation(
            snapshot=Snapshot(
                black_level=0,
                count=10,
                is_check_black=False,
                is_check_count=False,
                mode="Interval",
                pixel_black_threshold=0,
                snapshot_out_mode="SnapshotAndSprite",
                sprite_snapshot_config=SpriteSnapshotConfig(color="Azure", columns=3, lines=2),
                start=1,
                time_interval=2,
            ),
            output=JobOutput(
                region="ap-chongqing",
                bucket="test-123456789",
                object="output/snapshot-${Number}.jpg",
                sprite_object="output/sprite-${Number}.jpg",
            ),
            user_data="This is my data.",
            job_level=0,
        ),
        queue_id="p2242ab62c7c94486915508540933a2c6",
        callback="http://callback.demo.com",
        callback_format="JSON",
    )

    assert xml_tree(to_xml(request)) == xml_tree(expected)


def test_snapshot_ci_param_alias() -> None:
    snapshot = Snapshot.model_validate({"CIParam": "imageMogr2/thumbnail/!50p", "Count": "3"})

    assert snapshot.ci_param == "imageMogr2/thumbnail/!50p"
    assert xml_tree(to_xml(snapshot, "Snapshot")) == {"CIParam": "imageMogr2/thumbnail/!50p", "Count": "3"}


# ---------------------------------------------------------------------------------------------------
# SmartCover (S004)
# ---------------------------------------------------------------------------------------------------

# S004:L429-L452 (Request 2)
SMART_COVER_REQUEST = """<Request>
<Tag>SmartCover</Tag>
<Input><Object>input/demo.mp4</Object></Input>
<Operation>
<SmartCover><Format>jpg</Format><Width>1280</Width><Height>960</Height><Count>5</Count>
<DeleteDuplicates>true</DeleteDuplicates></SmartCover>
<Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket>
<Object>output/smartcover-${number}.jpg</Object></Output>
<UserData>This is my data.</UserData>
<JobLevel>0</JobLevel>
</Operation>
<CallBack>http://callback.demo.com</CallBack>
<CallBackFormat>JSON</CallBackFormat>
</Request>"""


def test_smart_cover_request_matches_doc_sample() -> None:
    request = SmartCoverJobRequest(
        input=JobInput(object="input/demo.mp4"),
        operation=SmartCoverOperation(
            smart_cover=SmartCover(format="jpg", width=1280, height=960, count=5, delete_duplicates=True),
            output=JobOutput(region="ap-chongqing", bucket="test-123456789", object="output/smartcover-${number}.jpg"),
            user_data="This is my data.",
            job_level=0,
        ),
        callback="http://callback.demo.com",
        callback_format="JSON",
    )

    assert xml_tree(to_xml(request)) == xml_tree(SMART_COVER_REQUEST)


def test_smart_cover_response_and_finished_result() -> None:
    # S004:L462-L495 plus the F003 callback's MediaResult (full keys, empty Md5Info and ObjectPrefix).
    body = """<Response><JobsDetail>
    <Code>Success</Code><Message/><JobId>j8d121820f5e411ec926ef19d53ba9c6f</JobId><State>Success</State>
    <CreationTime>2022-06-27T15:23:10+0800</CreationTime><StartTime>-</StartTime><EndTime>-</EndTime>
    <QueueId>p2242ab62c7c94486915508540933a2c6</QueueId><Tag>SmartCover</Tag>
    <Operation>
    <SmartCover><Format>jpg</Format><Width>1280</Width><Height>960</Height><Count>5</Count>
    <DeleteDuplicates>true</DeleteDuplicates></SmartCover>
    <Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket>
    <Object>output/smartcover-${number}.jpg</Object></Output>
    <MediaResult><OutputFile><Bucket>test-123456789</Bucket><Md5Info/>
    <ObjectName>output/smartcover-0.jpg</ObjectName><ObjectName>output/smartcover-1.jpg</ObjectName>
    <ObjectPrefix/><Region>ap-chongqing</Region></OutputFile></MediaResult>
    <UserData>This is my data.</UserData><JobLevel>0</JobLevel>
    </Operation></JobsDetail></Response>"""

    detail = parse(body).jobs_detail[0]

    assert isinstance(detail, cast(type, SmartCoverJobDetail))
    assert detail.operation is not None
    assert detail.operation.smart_cover is not None
    assert detail.operation.smart_cover.count == 5
    assert detail.operation.smart_cover.delete_duplicates is True
    assert detail.operation.media_result is not None
    assert detail.operation.media_result.output_keys == ["output/smartcover-0.jpg", "output/smartcover-1.jpg"]
    assert detail.progress is None  # SmartCover reports no Progress


# ---------------------------------------------------------------------------------------------------
# Animation (F003)
# ---------------------------------------------------------------------------------------------------


def test_animation_request_and_response() -> None:
    # Inline parameters = the animated-image template's Container/Video/TimeInterval (F003 L41905-L41922).
    expected = """<Request><Tag>Animation</Tag><Input><Object>input/demo.mp4</Object></Input>
    <Operation>
    <Animation><Container><Format>gif</Format></Container>
    <Video><Codec>gif</Codec><Width>1280</Width><Fps>15</Fps><AnimateOnlyKeepKeyFrame>true</AnimateOnlyKeepKeyFrame>
    </Video>
    <TimeInterval><Start>0</Start><Duration>60</Duration></TimeInterval></Animation>
    <Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.gif</Object></Output>
    </Operation></Request>"""
    request = AnimationJobRequest(
        input=JobInput(object="input/demo.mp4"),
        operation=AnimationOperation(
            animation=Animation(
                container=Container(format="gif"),
                video=AnimationVideo(codec="gif", width=1280, fps="15", animate_only_keep_key_frame=True),
                time_interval=TimeInterval(start=0, duration=60),
            ),
            output=JobOutput(region="ap-chongqing", bucket="test-123456789", object="output/out.gif"),
        ),
    )
    assert xml_tree(to_xml(request)) == xml_tree(expected)

    # F003 L20160-L20191 (submit response)
    response = parse(
        """<Response><JobsDetail><Code>Success</Code><Message/>
        <JobId>j229ed9e2f60c11ec8525e36307395bf9</JobId><State>Submitted</State><Tag>Animation</Tag>
        <Operation><TemplateId>t1f16e1dfbdc994105b31292d45710642a</TemplateId>
        <TemplateName>animation_demo</TemplateName>
        <Output><Region>ap-chongqing</Region><Bucket>test-123456789</Bucket><Object>output/out.mp4</Object></Output>
        <UserData>This is my data.</UserData><JobLevel>0</JobLevel></Operation></JobsDetail></Response>"""
    )
    detail = response.jobs_detail[0]
    assert isinstance(detail, cast(type, AnimationJobDetail))
    assert detail.operation is not None
    assert detail.operation.template_name == "animation_demo"


# ---------------------------------------------------------------------------------------------------
# QualityEstimate (S002, F003 callbacks)
# ---------------------------------------------------------------------------------------------------

# S002:L577-L592
QUALITY_REQUEST = """<Request>
<Tag>QualityEstimate</Tag>
<Input><Object>input/demo.mp4</Object></Input>
<Operation>
<QualityEstimateConfig><Rotate>90</Rotate><Mode>vqaPlus</Mode></QualityEstimateConfig>
<UserData>This is my data.</UserData>
<JobLevel>0</JobLevel>
</Operation>
<CallBack>http://callback.demo.com</CallBack>
<CallBackFormat>JSON</CallBackFormat>
</Request>"""


def test_quality_estimate_request_matches_doc_sample_and_operation_is_optional() -> None:
    request = QualityEstimateJobRequest(
        input=JobInput(object="input/demo.mp4"),
        operation=QualityEstimateOperation(
            quality_estimate_config=QualityEstimateConfig(rotate=90, mode="vqaPlus"),
            user_data="This is my data.",
            job_level=0,
        ),
        callback="http://callback.demo.com",
        callback_format="JSON",
    )
    assert xml_tree(to_xml(request)) == xml_tree(QUALITY_REQUEST)

    bare = QualityEstimateJobRequest(input=JobInput(object="input/demo.mp4"))
    assert xml_tree(to_xml(bare)) == {"Tag": "QualityEstimate", "Input": {"Object": "input/demo.mp4"}}


def test_quality_estimate_xml_callback_has_score_under_operation() -> None:
    # F003 L31420-L31491 (callback triggered by a job API; MediaInfo trimmed)
    body = """<Response><EventName>TaskFinish</EventName><JobsDetail>
    <Code>Success</Code><JobId>jb01fe2f2f86411ec9ca1073b78d316d3</JobId><Message/>
    <Operation>
    <MediaInfo><Format><Bitrate>834736</Bitrate><Duration>13.654</Duration><NumStream>1</NumStream>
    <Size>1424687</Size></Format>
    <Stream><Subtitle/><Video><Level>1.000</Level><PixelFormat>yuv420p</PixelFormat><Rotation>0</Rotation>
    <Width>544</Width></Video></Stream></MediaInfo>
    <MediaResult><OutputFile/></MediaResult>
    <QualityEstimate><Score>6.460358</Score></QualityEstimate>
    <UserData>This is my QualityEstimate job.</UserData>
    </Operation>
    <State>Success</State><Tag>QualityEstimate</Tag>
    </JobsDetail></Response>"""

    detail = parse(body).jobs_detail[0]

    assert isinstance(detail, cast(type, QualityEstimateJobDetail))
    op = detail.operation
    assert op is not None
    assert op.result is not None
    assert op.result.score == pytest.approx(6.460358)
    assert op.media_result is not None
    assert op.media_result.output_keys == []


def test_quality_estimate_json_callback_quirk_score_under_media_result() -> None:
    # F003 L31622-L31695: JobsDetail is an object and QualityEstimate sits under Operation.MediaResult.
    body = {
        "EventName": "TaskFinish",
        "JobsDetail": {
            "Code": "Success",
            "CreationTime": "2022-06-30T19:06:27+0800",
            "EndTime": "2022-06-30T19:06:34+0800",
            "Input": {"BucketId": "test-123456789", "Object": "input/demo.mp4", "Region": "ap-chongqing"},
            "JobId": "jb01fe2f2f86411ec9ca1073b78d316d3",
            "Operation": {
                "MediaInfo": {
                    "Format": {
                        "Bitrate": "834736",
                        "Duration": "13.654",
                        "NumStream": "1",
                        "Size": "1424687",
                    },
                    "Stream": {"Video": {"Level": "1.000", "PixelFormat": "yuv420p", "Width": "544"}},
                },
                "MediaResult": {"QualityEstimate": {"Score": "6.460358"}},
                "UserData": "This is my QualityEstimate job.",
            },
            "QueueId": "p2242ab62c7c94486915508540933a2c6",
            "StartTime": "2022-06-30T19:06:28+0800",
            "State": "Success",
            "Tag": "QualityEstimate",
        },
    }

    callback = decode_tree(TaskFinish, body)

    assert len(callback.jobs_detail) == 1
    detail = callback.jobs_detail[0]
    assert isinstance(detail, cast(type, QualityEstimateJobDetail))
    assert detail.operation is not None
    assert detail.operation.quality_estimate is None
    assert detail.operation.result is not None
    assert detail.operation.result.score == pytest.approx(6.460358)
    assert detail.message is None  # JSON callbacks may drop Message


def test_quality_estimate_vqa_plus_result() -> None:
    # S002 result table: VqaPlusResult{NoAudio, NoVideo, DetailedResult[]{Type, Items[]{...AreaCoordSet[]}}}
    body = """<Response><JobsDetail><Tag>QualityEstimate</Tag><State>Success</State><Operation>
    <QualityEstimate><Score>7.5</Score><VqaPlusResult><NoAudio>false</NoAudio><NoVideo>false</NoVideo>
    <DetailedResult><Type>Blur</Type>
      <Items><Confidence>87</Confidence><StartTimeOffset>1.2</StartTimeOffset><EndTimeOffset>3.4</EndTimeOffset>
      <AreaCoordSet>10</AreaCoordSet><AreaCoordSet>20</AreaCoordSet><AreaCoordSet>300</AreaCoordSet>
      <AreaCoordSet>400</AreaCoordSet></Items>
      <Items><StartTimeOffset>5</StartTimeOffset><EndTimeOffset>6</EndTimeOffset></Items>
    </DetailedResult>
    <DetailedResult><Type>NoVoice</Type><Items><StartTimeOffset>0</StartTimeOffset></Items></DetailedResult>
    </VqaPlusResult></QualityEstimate>
    </Operation></JobsDetail></Response>"""

    detail = parse(body).jobs_detail[0]

    assert isinstance(detail, cast(type, QualityEstimateJobDetail))
    assert detail.operation is not None
    assert detail.operation.result is not None
    vqa = detail.operation.result.vqa_plus_result
    assert vqa is not None
    assert vqa.no_audio is False
    assert [d.type for d in vqa.detailed_result] == ["Blur", "NoVoice"]
    blur = vqa.detailed_result[0]
    assert len(blur.items) == 2
    assert blur.items[0].confidence == 87
    assert blur.items[0].area_coord_set == [10, 20, 300, 400]
    assert blur.items[1].confidence is None
    assert len(vqa.detailed_result[1].items) == 1


# ---------------------------------------------------------------------------------------------------
# SuperResolution (F003)
# ---------------------------------------------------------------------------------------------------


def test_super_resolution_callback_with_sub_tag_and_watermark_state() -> None:
    # F003 L34225-L34344 (callback, MediaInfo trimmed): <ObjectPrefix/> means the names are full keys.
    body = """<Response><EventName>TaskFinish</EventName><JobsDetail>
    <Code>Success</Code><JobId>j06668dc0f86811ecb90d0b03267ce0e5</JobId><Message/>
    <Operation>
    <DigitalWatermark><IgnoreError>false</IgnoreError><Message>123456789ab</Message><State>Failed</State>
    <Type>Text</Type><Version>V1</Version></DigitalWatermark>
    <MediaInfo><Format><Bitrate>8867.172000</Bitrate><Size>15134046</Size></Format></MediaInfo>
    <MediaResult><OutputFile><Bucket>test-123456789</Bucket>
    <Md5Info><Md5>852883012a6ba726e6ed8d9b984edfdf</Md5><ObjectName>output/super_resolution.mp4</ObjectName></Md5Info>
    <ObjectName>output/super_resolution.mp4</ObjectName><ObjectPrefix/><Region>ap-chongqing</Region>
    </OutputFile></MediaResult>
    <Output><Bucket>test-123456789</Bucket><Object>output/super_resolution.mp4</Object>
    <Region>ap-chongqing</Region></Output>
    <TemplateId>t1f1ae1dfcdc9ds41dsb31632d45710642a</TemplateId><TemplateName>template_superresolution</TemplateName>
    <TranscodeTemplateId>t156c107210e7243c5817354565d81b578</TranscodeTemplateId>
    <UserData>This is my SuperResolution job.</UserData>
    <WatermarkTemplateId>t143ae6e040af6431aa772c9ec3f0a3f36</WatermarkTemplateId>
    <WatermarkTemplateId>t12a74d11687d444deba8a6cc52051ac27</WatermarkTemplateId>
    </Operation>
    <State>Success</State><SubTag>DigitalWatermark</SubTag><Tag>SuperResolution</Tag>
    </JobsDetail></Response>"""

    detail = parse(body).jobs_detail[0]

    assert isinstance(detail, cast(type, SuperResolutionJobDetail))
    assert detail.sub_tag == "DigitalWatermark"
    op = detail.operation
    assert op is not None
    assert op.transcode_template_id == "t156c107210e7243c5817354565d81b578"
    assert len(op.watermark_template_id) == 2
    assert op.digital_watermark is not None
    assert op.digital_watermark.state == "Failed"
    assert op.media_result is not None
    assert op.media_result.output_keys == ["output/super_resolution.mp4"]
    assert op.media_info is not None
    assert op.media_info.format is not None
    assert op.media_info.format.size == 15134046


# ---------------------------------------------------------------------------------------------------
# Union, list and query
# ---------------------------------------------------------------------------------------------------


def test_list_response_mixes_tags_and_keeps_unknown_tags_raw() -> None:
    body = """<Response>
    <JobsDetail><JobId>j1</JobId><Tag>Transcode</Tag><State>Running</State><Progress>30</Progress>
      <Operation><TemplateId>t1</TemplateId></Operation></JobsDetail>
    <JobsDetail><JobId>j2</JobId><Tag>FutureJob</Tag><State>Success</State>
      <Operation><Segment><Format>hls</Format><Duration>10</Duration></Segment></Operation></JobsDetail>
    <JobsDetail><JobId>j3</JobId><Tag>Snapshot</Tag><State>Failed</State><Code>InternalError</Code></JobsDetail>
    <NextToken>225508</NextToken>
    </Response>"""

    response = parse(body)

    assert [type(d) for d in response.jobs_detail] == [TranscodeJobDetail, JobDetail, SnapshotJobDetail]
    assert response.next_token == "225508"
    assert response.jobs_detail[1].operation == {"Segment": {"Format": "hls", "Duration": "10"}}
    assert response.jobs_detail[2].code == "InternalError"
    assert response.jobs_detail[2].finished
    assert not response.jobs_detail[2].succeeded


def test_describe_with_missing_ids() -> None:
    body = "<Response><NonExistJobIds>jdeadbeef</NonExistJobIds></Response>"

    response = parse(body)

    assert response.jobs_detail == []
    assert response.non_exist_job_ids == ["jdeadbeef"]


def test_media_jobs_query_emits_documented_names_and_omits_unset() -> None:
    query = JobsQuery(
        tag="Transcode",
        queue_id="p2242ab62c7c94486915508540933a2c6",
        order_by_time="Asc",
        size=100,
        states="Success,Failed",
        start_creation_time=datetime(2001, 1, 1, 0, 0, 0, tzinfo=CHINA),
        end_creation_time="2001-01-01T23:59:59+0800",
        workflow_id="web6ac56c1ef54dbfa44d7f4103203be9",
        inventory_trigger_job_id="b1234",
        input_object="input/demo.mp4",
    )

    assert query.to_params() == {
        "tag": "Transcode",
        "queueId": "p2242ab62c7c94486915508540933a2c6",
        "orderByTime": "Asc",
        "size": "100",
        "states": "Success,Failed",
        "startCreationTime": "2001-01-01T00:00:00+0800",
        "endCreationTime": "2001-01-01T23:59:59+0800",
        "workflowId": "web6ac56c1ef54dbfa44d7f4103203be9",
        "inventoryTriggerJobId": "b1234",
        "inputObject": "input/demo.mp4",
    }
    assert JobsQuery(tag="Snapshot").to_params() == {"tag": "Snapshot"}


def test_media_jobs_query_states_enums_and_paging() -> None:
    query = JobsQuery(tag="Transcode", states=[JobState.SUCCESS, "Failed"])
    page2 = query.next_page("225508")

    assert query.to_params()["states"] == "Success,Failed"
    assert page2.to_params() == {"tag": "Transcode", "states": "Success,Failed", "nextToken": "225508"}
    assert "nextToken" not in query.to_params()


@pytest.mark.parametrize("size", [0, 101])
def test_media_jobs_query_size_limits(size: int) -> None:
    with pytest.raises(ValidationError):
        JobsQuery(tag="Transcode", size=size)


def test_media_jobs_query_rejects_unknown_parameters() -> None:
    with pytest.raises(ValidationError):
        JobsQuery.model_validate({"tag": "Transcode", "pageSize": 10})

"""Content moderation models: request XML, query/submit responses, Simple/Detail callbacks, verdicts.

Samples are copied from the seed (``shared/seeds/003_9f6f444eb72c0a75.txt``, line refs per test) and from
``shared/reference/moderation-and-cos-apis.md`` §A (doc/SDK samples, section refs per test), with the
doc typos (``</DataID>``) fixed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from ciflow.codec import from_xml, to_xml
from ciflow.errors import DecodeError, MalformedXmlError
from ciflow.models.moderation import (
    CONTENT_VERSION_HEADER,
    MODERATION_RESPONSES,
    AudioModerationCallback,
    AudioModerationDetail,
    AudioModerationRequest,
    AudioModerationResponse,
    DocumentModerationCallback,
    DocumentModerationDetail,
    DocumentModerationRequest,
    DocumentModerationResponse,
    FreezeConf,
    ImageModerationCallback,
    ImageModerationDetail,
    ImageModerationRequest,
    ImageModerationResponse,
    ImageRecognitionResult,
    MaskConf,
    MaskImage,
    ModerationCallbackVersion,
    ModerationConf,
    ModerationDetailCallback,
    ModerationInput,
    ModerationJobDetail,
    ModerationKind,
    ModerationSimpleCallback,
    ModerationVerdict,
    SceneInfo,
    SnapshotConf,
    StorageConf,
    TextModerationCallback,
    TextModerationDetail,
    TextModerationRequest,
    TextModerationResponse,
    UserInfo,
    Verdict,
    VideoModerationCallback,
    VideoModerationDetail,
    VideoModerationRequest,
    VideoModerationResponse,
    decode_moderation_callback,
    parse_moderation_callback,
)
from tests.support.models import CHINA, xml_tree

# --------------------------------------------------------------------------------------------------
# Requests: Python-built models serialise to the documented trees
# --------------------------------------------------------------------------------------------------


def test_image_batch_request_matches_doc_sample() -> None:
    # reference §A.1.2 (D-IBATCH sample)
    expected = """<Request>
      <Input><Object>a.jpg</Object><DataId>1</DataId></Input>
      <Input><Url>http://exsample.com/b.jpg</Url><LargeImageDetect>1</LargeImageDetect></Input>
      <Conf>
        <BizType>b81d45f94b91a683255e9a9506f45a11</BizType>
        <DetectType>Porn,Ads</DetectType>
        <Async>0</Async>
        <Callback>http://www.callback.com</Callback>
        <Freeze><PornScore>90</PornScore></Freeze>
      </Conf>
    </Request>"""
    request = ImageModerationRequest(
        input=[
            ModerationInput(object="a.jpg", data_id="1"),
            ModerationInput(url="http://exsample.com/b.jpg", large_image_detect=1),
        ],
        conf=ModerationConf(
            biz_type="b81d45f94b91a683255e9a9506f45a11",
            detect_type="Porn,Ads",
            async_=0,
            callback="http://www.callback.com",
            freeze=FreezeConf(porn_score=90),
        ),
    )
    assert xml_tree(to_xml(request), root="Request") == xml_tree(expected, root="Request")
    assert ImageModerationRequest.submit_path() == "/image/auditing"


def test_image_batch_request_one_input_and_limits() -> None:
    one = ImageModerationRequest(input=ModerationInput(content="aGVsbG8=", interval=5, max_frames=3))
    tree = xml_tree(to_xml(one), root="Request")
    # a single Input is one element, not a list; the default Conf is sent empty (default policy)
    assert tree == {"Input": {"Content": "aGVsbG8=", "Interval": "5", "MaxFrames": "3"}, "Conf": ""}
    with pytest.raises(ValidationError):
        ImageModerationRequest(input=[ModerationInput(object=f"{i}.jpg") for i in range(101)])
    with pytest.raises(ValidationError):
        ImageModerationRequest(input=[])
    hundred = ImageModerationRequest(input=[ModerationInput(object=f"{i}.jpg") for i in range(100)])
    assert len(xml_tree(to_xml(hundred), root="Request")["Input"]) == 100


def test_video_request_matches_doc_sample() -> None:
    # reference §A.2 (D-VSUB sample; </DataID> typo fixed)
    expected = """<Request>
      <Input><Object>a.mp4</Object><DataId>123-fdrsg-123</DataId></Input>
      <Conf>
        <Snapshot><Mode>Interval</Mode><TimeInterval>50</TimeInterval><Count>100</Count></Snapshot>
        <Callback>http://callback.com/</Callback>
        <CallbackVersion>Detail</CallbackVersion>
        <CallbackType>1</CallbackType>
        <BizType>b81d45f94b91a683255e9a9506f45a11</BizType>
        <DetectContent>1</DetectContent>
        <Freeze><PornScore>90</PornScore><AdsScore>90</AdsScore></Freeze>
      </Conf>
    </Request>"""
    request = VideoModerationRequest(
        input=ModerationInput(object="a.mp4", data_id="123-fdrsg-123"),
        conf=ModerationConf(
            snapshot=SnapshotConf(mode="Interval", time_interval=50, count=100),
            callback="http://callback.com/",
            callback_version=ModerationCallbackVersion.DETAIL.value,
            callback_type=1,
            biz_type="b81d45f94b91a683255e9a9506f45a11",
            detect_content=1,
            freeze=FreezeConf(porn_score=90, ads_score=90),
        ),
    )
    assert xml_tree(to_xml(request), root="Request") == xml_tree(expected, root="Request")
    # the emulator reads the same body back
    parsed = from_xml(VideoModerationRequest, expected, root="Request")
    assert parsed.conf.snapshot is not None
    assert parsed.conf.snapshot.time_interval == 50.0
    assert parsed.conf.snapshot.count == 100
    assert parsed.conf.callback == "http://callback.com/"
    assert parsed.conf.freeze == FreezeConf(porn_score=90, ads_score=90)
    assert parsed.input.data_id == "123-fdrsg-123"


def test_live_video_request_root_level_fields() -> None:
    request = VideoModerationRequest(
        input=ModerationInput(url="rtmp://example.com/live/1"),
        type="live_video",
        storage_conf=StorageConf(path="live/record/"),
        conf=ModerationConf(
            snapshot=SnapshotConf(mode="Fps", time_interval=0.5),
            mask=MaskConf(images=[MaskImage(label="Porn", type="Mosaic")]),
        ),
    )
    tree = xml_tree(to_xml(request), root="Request")
    assert tree["Type"] == "live_video"
    assert tree["StorageConf"] == {"Path": "live/record/"}
    assert tree["Conf"]["Snapshot"] == {"Mode": "Fps", "TimeInterval": "0.5"}
    assert tree["Conf"]["Mask"] == {"Images": {"Label": "Porn", "Type": "Mosaic"}}


def test_audio_request_matches_seed_sample_with_user_info_and_freeze() -> None:
    # seed L11812-11826 (</DataID> fixed) + the Conf/UserInfo/Freeze table L11700-11760
    expected = """<Request>
      <Input>
        <Object>a.mp3</Object>
        <DataId>123-fdrsg-123</DataId>
        <UserInfo><TokenId>t1</TokenId><Nickname>nick</Nickname><IP>10.0.0.1</IP>
          <ReceiveTokenId>r1</ReceiveTokenId><AppId>app</AppId></UserInfo>
      </Input>
      <Conf>
        <DetectType>Porn,Ads</DetectType>
        <Callback>http://callback.com/</Callback>
        <CallbackVersion>Simple</CallbackVersion>
        <CallbackType>2</CallbackType>
        <BizType>b81d45f94b91a683255e9a9506f45a11</BizType>
        <Freeze><PornScore>85</PornScore><AdsScore>95</AdsScore></Freeze>
      </Conf>
    </Request>"""
    request = AudioModerationRequest(
        input=ModerationInput(
            object="a.mp3",
            data_id="123-fdrsg-123",
            user_info=UserInfo(token_id="t1", nickname="nick", ip="10.0.0.1", receive_token_id="r1", app_id="app"),
        ),
        conf=ModerationConf(
            detect_type="Porn,Ads",
            callback="http://callback.com/",
            callback_version="Simple",
            callback_type=2,
            biz_type="b81d45f94b91a683255e9a9506f45a11",
            freeze=FreezeConf(porn_score=85, ads_score=95),
        ),
    )
    assert xml_tree(to_xml(request), root="Request") == xml_tree(expected, root="Request")
    assert AudioModerationRequest.submit_path() == "/audio/auditing"


def test_text_requests_sync_and_async() -> None:
    # seed L12175-12185: the sync (Content) form
    sync_expected = """<Request><Input><Content>54uZ5Ye75omL</Content></Input>
      <Conf><BizType>b81d45f94b91a683255e9a9506f45a11</BizType></Conf></Request>"""
    sync = TextModerationRequest(
        input=ModerationInput(content="54uZ5Ye75omL"),
        conf=ModerationConf(biz_type="b81d45f94b91a683255e9a9506f45a11"),
    )
    assert xml_tree(to_xml(sync), root="Request") == xml_tree(sync_expected, root="Request")

    # reference §A.4: the async (Object) form with text-only freeze thresholds
    async_expected = """<Request>
      <Input><Object>test/test.txt</Object><DataId>d1</DataId></Input>
      <Conf>
        <BizType>b81d45f94b91a683255e9a9506f45a11</BizType>
        <Callback>http://www.callback.com</Callback>
        <CallbackVersion>Detail</CallbackVersion>
        <CallbackType>2</CallbackType>
        <Freeze><PornScore>90</PornScore><IllegalScore>90</IllegalScore><AbuseScore>80</AbuseScore></Freeze>
      </Conf>
    </Request>"""
    request = TextModerationRequest(
        input=ModerationInput(object="test/test.txt", data_id="d1"),
        conf=ModerationConf(
            biz_type="b81d45f94b91a683255e9a9506f45a11",
            callback="http://www.callback.com",
            callback_version="Detail",
            callback_type=2,
            freeze=FreezeConf(porn_score=90, illegal_score=90, abuse_score=80),
        ),
    )
    assert xml_tree(to_xml(request), root="Request") == xml_tree(async_expected, root="Request")


def test_document_request_matches_doc_sample() -> None:
    # reference §A.5 (D-DSUB sample)
    expected = """<Request>
      <Input><Url>http://www.example.com/doctest.doc</Url><Type>doc</Type><DataId>123-fdrsg-123</DataId></Input>
      <Conf>
        <BizType>b81d45f94b91a683255e9a9506f4****</BizType>
        <Callback>http://callback.com/</Callback>
        <CallbackType>1</CallbackType>
        <Freeze><PornScore>90</PornScore></Freeze>
      </Conf>
    </Request>"""
    request = DocumentModerationRequest(
        input=ModerationInput(url="http://www.example.com/doctest.doc", type="doc", data_id="123-fdrsg-123"),
        conf=ModerationConf(
            biz_type="b81d45f94b91a683255e9a9506f4****",
            callback="http://callback.com/",
            callback_type=1,
            freeze=FreezeConf(porn_score=90),
        ),
    )
    assert xml_tree(to_xml(request), root="Request") == xml_tree(expected, root="Request")


def test_every_freeze_threshold_and_conf_alias() -> None:
    conf = ModerationConf(
        freeze=FreezeConf(
            porn_score=1,
            ads_score=2,
            illegal_score=3,
            abuse_score=4,
            terrorism_score=5,
            politics_score=6,
            teenager_score=7,
        ),
        async_=1,
    )
    tree = xml_tree(to_xml(conf, "Conf"), root="Conf")
    assert tree == {
        "Freeze": {
            "PornScore": "1",
            "AdsScore": "2",
            "IllegalScore": "3",
            "AbuseScore": "4",
            "TerrorismScore": "5",
            "PoliticsScore": "6",
            "TeenagerScore": "7",
        },
        "Async": "1",
    }
    # moderation spells it Callback, never the job APIs' CallBack
    assert "Callback" in xml_tree(to_xml(ModerationConf(callback="http://x"), "Conf"), root="Conf")


def test_kind_paths() -> None:
    assert [k.value for k in ModerationKind] == ["image", "video", "audio", "text", "document"]
    assert ModerationKind.DOCUMENT.submit_path == "/document/auditing"
    assert ModerationKind.VIDEO.job_path("vab1") == "/video/auditing/vab1"
    assert VideoModerationRequest.kind is ModerationKind.VIDEO
    assert MODERATION_RESPONSES[ModerationKind.TEXT] is TextModerationResponse


# --------------------------------------------------------------------------------------------------
# Submit and query responses
# --------------------------------------------------------------------------------------------------

AUDIO_SUBMIT = """<Response>
  <JobsDetail>
    <DataId>123-fdrsg-123</DataId>
    <JobId>vab1ca9fc8a3ed11ea834c525400863904</JobId>
    <State>Submitted</State>
    <CreationTime>2019-07-07T12:12:12+0800</CreationTime>
  </JobsDetail>
  <RequestId>xxxxxxxxxxxxxxxx</RequestId>
</Response>"""  # seed L11845-11855


def test_audio_submit_response_seed_sample() -> None:
    response = from_xml(AudioModerationResponse, AUDIO_SUBMIT, root="Response")
    job = response.jobs_detail
    assert job is not None
    assert job.job_id == "vab1ca9fc8a3ed11ea834c525400863904"
    assert job.data_id == "123-fdrsg-123"
    assert job.state == "Submitted"
    assert not job.finished
    assert job.creation_time == datetime(2019, 7, 7, 12, 12, 12, tzinfo=CHINA)
    assert response.request_id == "xxxxxxxxxxxxxxxx"
    assert job.verdict == ModerationVerdict()  # nothing decided yet


TEXT_SYNC = """<Response>
  <JobsDetail>
    <JobId>vab1ca9fc8a3ed11ea834c525400863904</JobId>
    <Content>54uZ5Ye75omL</Content>
    <State>Success</State>
    <CreationTime>2019-07-07T12:12:12+0800</CreationTime>
    <SectionCount>1</SectionCount>
    <Label>Illegal</Label>
    <Result>2</Result>
    <PornInfo>
      <HitFlag>0</HitFlag>
      <Count>0</Count>
    </PornInfo>
    <Section>
      <StartByte>0</StartByte>
      <Label>Illegal</Label>
      <Result>2</Result>
      <PornInfo>
        <HitFlag>0</HitFlag>
        <Score>0</Score>
        <Keywords/>
      </PornInfo>
    </Section>
  </JobsDetail>
  <RequestId>xxxxxxxxxxxx</RequestId>
</Response>"""  # seed L12201-12231 (page break rejoined)


def test_text_sync_response_seed_sample() -> None:
    job = from_xml(TextModerationResponse, TEXT_SYNC, root="Response").jobs_detail
    assert job is not None
    assert job.content == "54uZ5Ye75omL"
    assert job.section_count == 1
    assert job.label == "Illegal"
    assert job.result == 2
    assert job.porn_info == SceneInfo(hit_flag=0, count=0)
    assert len(job.section) == 1
    section = job.section[0]
    assert section.start_byte == 0
    assert section.result == 2
    assert section.porn_info is not None
    assert section.porn_info.score == 0
    assert section.porn_info.keyword_list == []
    verdict = job.verdict
    assert verdict.result is Verdict.REVIEW
    assert verdict.needs_review
    assert verdict.label == "Illegal"
    assert verdict.hits == []


TEXT_QUERY = """<Response>
  <JobsDetail>
    <Code>Success</Code><Message>Success</Message>
    <JobId>vab1ca9fc8a3ed11ea834c525400863905</JobId><DataId>d1</DataId><State>Success</State>
    <CreationTime>2021-08-07T12:12:12+0800</CreationTime><Object>test/test.txt</Object>
    <SectionCount>2</SectionCount><Label>Porn</Label><Result>1</Result><Score>91</Score>
    <PornInfo><HitFlag>1</HitFlag><Count>1</Count></PornInfo>
    <IllegalInfo><HitFlag>2</HitFlag><Count>1</Count></IllegalInfo>
    <AbuseInfo><HitFlag>0</HitFlag><Count>0</Count></AbuseInfo>
    <Section>
      <StartByte>0</StartByte><Label>Porn</Label><Result>1</Result>
      <PornInfo>
        <Code>0</Code><HitFlag>1</HitFlag><Score>91</Score><Keywords>foo,bar</Keywords><SubLabel>SexBehavior</SubLabel>
        <HitInfos><Type>keyword</Type><Keywords>foo</Keywords><LibName>lib1</LibName>
          <Positions><Start>3</Start><End>6</End></Positions>
          <Positions><Start>9</Start><End>12</End></Positions></HitInfos>
        <LibResults><LibType>2</LibType><LibName>custom</LibName><Keywords>foo</Keywords><Keywords>bar</Keywords></LibResults>
      </PornInfo>
    </Section>
    <Section>
      <StartByte>10000</StartByte><Label>Illegal</Label><Result>2</Result>
      <IllegalInfo><HitFlag>2</HitFlag><Score>70</Score><Keywords>baz</Keywords></IllegalInfo>
    </Section>
    <UserInfo><TokenId>t1</TokenId><IP>1.2.3.4</IP></UserInfo>
    <ListInfo><ListResults><ListType>1</ListType><ListName>blk</ListName><Entity>t1</Entity></ListResults></ListInfo>
    <ForbidState>1</ForbidState>
  </JobsDetail>
  <RequestId>r-text</RequestId>
</Response>"""  # reference §A.4 query schema (D-TQ; GO TextAuditingJobDetail)


def test_text_query_response_with_sections_hit_infos_and_lists() -> None:
    job = from_xml(TextModerationResponse, TEXT_QUERY, root="Response").jobs_detail
    assert job is not None
    assert job.object == "test/test.txt"
    assert job.score == 91
    assert job.forbid_state == 1
    assert [s.start_byte for s in job.section] == [0, 10000]
    porn = job.section[0].porn_info
    assert porn is not None
    assert porn.keywords == "foo,bar"  # text: one comma string, kept as sent
    assert porn.keyword_list == ["foo", "bar"]
    assert porn.sub_label == "SexBehavior"
    assert porn.hit_infos[0].lib_name == "lib1"
    assert [(p.start, p.end) for p in porn.hit_infos[0].positions] == [(3, 6), (9, 12)]
    assert porn.lib_results[0].lib_type == 2
    assert porn.lib_results[0].keywords == ["foo", "bar"]
    assert job.user_info == UserInfo(token_id="t1", ip="1.2.3.4")
    assert job.list_info is not None
    assert job.list_info.list_results[0].list_type == 1
    assert job.list_info.list_results[0].entity == "t1"
    verdict = job.verdict
    assert verdict == ModerationVerdict(
        result=Verdict.BLOCK, label="Porn", score=91, sub_label="SexBehavior", hits=["Porn", "Illegal"]
    )


IMAGE_BATCH = """<Response>
  <JobsDetail>
    <DataId>1</DataId><JobId>si8263213daf3711eca0d1525400d88xxx</JobId><State>Success</State>
    <Object>a.jpg</Object><CompressionResult>0</CompressionResult>
    <Label>Porn</Label><Result>1</Result><Score>88</Score><Category>Sexy</Category><SubLabel>SexBehavior</SubLabel>
    <Text>some ocr text</Text>
    <PornInfo>
      <HitFlag>1</HitFlag><Score>88</Score><Label>Porn</Label><Category>Sexy</Category><SubLabel>SexBehavior</SubLabel>
      <OcrResults>
        <Text>buy now</Text><Keywords>buy</Keywords><Keywords>now</Keywords>
        <Location><X>1.5</X><Y>2</Y><Width>30</Width><Height>10</Height><Rotate>0</Rotate></Location>
      </OcrResults>
      <ObjectResults><Name>person</Name><Location><X>0</X><Y>0</Y><Width>5</Width><Height>5</Height></Location></ObjectResults>
      <LibResults><ImageId>img-1</ImageId><Score>99</Score></LibResults>
    </PornInfo>
    <AdsInfo><HitFlag>0</HitFlag><Score>3</Score></AdsInfo>
    <ForbidState>0</ForbidState>
  </JobsDetail>
  <JobsDetail><Code>InvalidArgument</Code><Message>Param MaxFrames is illegal</Message><DataId/></JobsDetail>
  <RequestId>r-img</RequestId>
</Response>"""  # reference §A.1.2 (sync JobsDetail field list + per-item failure sample)


def test_image_batch_response_items_and_failure() -> None:
    response = from_xml(ImageModerationResponse, IMAGE_BATCH, root="Response")
    assert len(response.jobs_detail) == 2
    ok, failed = response.jobs_detail
    assert ok.job_id == "si8263213daf3711eca0d1525400d88xxx"
    assert ok.compression_result == 0
    assert ok.category == "Sexy"
    assert ok.text == "some ocr text"
    assert ok.porn_info is not None
    ocr = ok.porn_info.ocr_results[0]
    assert ocr.keywords == ["buy", "now"]
    assert ocr.location is not None
    assert ocr.location.x == 1.5
    assert ocr.location.width == 30
    assert ok.porn_info.object_results[0].name == "person"
    assert ok.porn_info.lib_results[0].image_id == "img-1"
    assert ok.porn_info.lib_results[0].score == 99
    assert ok.verdict == ModerationVerdict(
        result=Verdict.BLOCK, label="Porn", score=88, sub_label="SexBehavior", hits=["Porn"]
    )
    assert failed.code == "InvalidArgument"
    assert failed.message == "Param MaxFrames is illegal"
    assert failed.data_id == ""
    assert failed.verdict.result is None


def test_image_query_single_jobs_detail_is_a_list_of_one() -> None:
    body = """<Response><JobsDetail><JobId>si1</JobId><State>Success</State>
      <CreationTime>2021-08-07T12:12:12+0800</CreationTime><Url>http://x/y.jpg</Url>
      <Label>Normal</Label><Result>0</Result><Score>0</Score>
      <PornInfo><HitFlag>0</HitFlag><Score>2</Score></PornInfo></JobsDetail><RequestId>r</RequestId></Response>"""
    response = from_xml(ImageModerationResponse, body, root="Response")
    assert len(response.jobs_detail) == 1
    assert response.jobs_detail[0].url == "http://x/y.jpg"
    assert response.jobs_detail[0].verdict.normal


RECOGNITION = """<RecognitionResult>
  <JobId>xxxxxxxxxxxxxxx</JobId>
  <CompressionResult>0</CompressionResult>
  <Result>1</Result>
  <Label>Porn</Label>
  <SubLabel>SexBehavior</SubLabel>
  <Score>95</Score>
  <PornInfo>
    <Code>0</Code><Msg>OK</Msg><HitFlag>1</HitFlag><Label>xxx</Label>
    <SubLabel>SexBehavior</SubLabel><Score>95</Score>
  </PornInfo>
  <TerroristInfo><Code>0</Code><Msg>OK</Msg><HitFlag>2</HitFlag><Score>70</Score></TerroristInfo>
</RecognitionResult>"""  # reference §A.1.1 sample (+ the legacy TerroristInfo container, GO L182-202)


def test_sync_image_recognition_result() -> None:
    result = from_xml(ImageRecognitionResult, RECOGNITION, root="RecognitionResult")
    assert result.job_id == "xxxxxxxxxxxxxxx"
    assert result.porn_info is not None
    assert result.porn_info.code == "0"
    assert result.porn_info.msg == "OK"
    assert result.terrorist_info is not None
    assert result.terrorist_info.hit_flag == 2
    assert result.verdict == ModerationVerdict(
        result=Verdict.BLOCK, label="Porn", score=95, sub_label="SexBehavior", hits=["Porn", "Terrorism"]
    )
    with pytest.raises(MalformedXmlError, match="RecognitionResult"):
        from_xml(ImageRecognitionResult, AUDIO_SUBMIT, root="RecognitionResult")


VIDEO_QUERY = """<Response>
  <JobsDetail>
    <Code>Success</Code><Message>Success</Message>
    <JobId>vab1ca9fc8a3ed11ea834c525400863904</JobId><State>Success</State>
    <CreationTime>2021-08-07T12:12:12+0800</CreationTime><Object>a.mp4</Object><DataId>123-fdrsg-123</DataId>
    <SnapshotCount>2</SnapshotCount><Label>Porn</Label><SubLabel>SexBehavior</SubLabel><Result>1</Result>
    <PornInfo><HitFlag>1</HitFlag><Count>1</Count></PornInfo>
    <AdsInfo><HitFlag>0</HitFlag><Count>0</Count></AdsInfo>
    <Snapshot>
      <Url>https://examplebucket-1250000000.cos.ap-beijing.myqcloud.com/snap1.jpg</Url>
      <Text>hello</Text><SnapshotTime>1000</SnapshotTime><Label>Porn</Label><Result>1</Result>
      <PornInfo><HitFlag>1</HitFlag><Score>96</Score><Label>Porn</Label><Category>Sexy</Category>
        <SubLabel>SexBehavior</SubLabel>
        <OcrResults><Text>hello</Text><Keywords>hello</Keywords></OcrResults></PornInfo>
    </Snapshot>
    <Snapshot>
      <Url>https://examplebucket-1250000000.cos.ap-beijing.myqcloud.com/snap2.jpg</Url>
      <SnapshotTime>2000</SnapshotTime><Label>Normal</Label><Result>0</Result>
      <PornInfo><HitFlag>0</HitFlag><Score>10</Score></PornInfo>
    </Snapshot>
    <AudioSection>
      <Url>https://examplebucket-1250000000.cos.ap-beijing.myqcloud.com/a0.mp3</Url>
      <Text>asr text</Text><OffsetTime>0</OffsetTime><Duration>3000</Duration>
      <Label>Normal</Label><Result>0</Result>
      <PornInfo><HitFlag>0</HitFlag><Score>0</Score><Keywords/></PornInfo>
      <LanguageResults><Label>zh</Label><Score>98</Score><StartTime>0</StartTime><EndTime>3000</EndTime></LanguageResults>
    </AudioSection>
    <ListInfo/>
    <ForbidState>1</ForbidState>
    <MaskInfo><RecordInfo><Code>Success</Code>
      <Output><Region>ap-beijing</Region><Bucket>b-1250000000</Bucket><Object>masked.mp4</Object></Output>
    </RecordInfo></MaskInfo>
  </JobsDetail>
  <RequestId>r-video</RequestId>
</Response>"""  # reference §A.2 query schema (D-VQ; GO AuditingJobDetail)


def test_video_submit_and_query_responses() -> None:
    submit = """<Response><JobsDetail><DataId>123-fdrsg-123</DataId>
      <JobId>vab1ca9fc8a3ed11ea834c525400863904</JobId><State>Submitted</State>
      <CreationTime>2021-08-07T12:12:12+0800</CreationTime><Object>a.mp4</Object></JobsDetail>
      <RequestId>r</RequestId></Response>"""  # reference §A.2 submit response
    submitted = from_xml(VideoModerationResponse, submit, root="Response").jobs_detail
    assert submitted is not None
    assert submitted.state == "Submitted"
    assert submitted.object == "a.mp4"

    job = from_xml(VideoModerationResponse, VIDEO_QUERY, root="Response").jobs_detail
    assert job is not None
    assert job.succeeded
    assert job.snapshot_count == 2
    assert [s.snapshot_time for s in job.snapshot] == [1000, 2000]
    first = job.snapshot[0]
    assert first.text == "hello"
    assert first.porn_info is not None
    assert first.porn_info.category == "Sexy"
    assert first.porn_info.ocr_results[0].keywords == ["hello"]
    assert len(job.audio_section) == 1
    section = job.audio_section[0]
    assert (section.offset_time, section.duration, section.text) == (0, 3000, "asr text")
    assert section.language_results[0].label == "zh"
    assert section.language_results[0].end_time == 3000
    assert job.list_info is not None
    assert job.list_info.list_results == []
    assert job.mask_info is not None
    assert job.mask_info.record_info is not None
    assert job.mask_info.record_info.output is not None
    assert job.mask_info.record_info.output.object == "masked.mp4"
    # no job-level Score for video: the verdict takes the label scene's best frame score
    assert job.verdict == ModerationVerdict(
        result=Verdict.BLOCK, label="Porn", score=96, sub_label="SexBehavior", hits=["Porn"]
    )


AUDIO_QUERY = """<Response>
  <JobsDetail>
    <Code>Success</Code><Message>Success</Message><DataId/><JobId>vab1ca9fc8a3ed11ea834c525400863904</JobId>
    <State>Success</State>
    <CreationTime>2019-07-07T12:12:12+0800</CreationTime><Object>a.mp3</Object>
    <Label>Porn</Label><Result>1</Result><AudioText>Haha</AudioText>
    <PornInfo><HitFlag>1</HitFlag><Score>93</Score><Label/></PornInfo>
    <Section>
      <Url>https://cos.ap-guangzhou.myqcloud.com/0.mp3</Url><OffsetTime>0</OffsetTime>
      <Duration>3000</Duration><Text>Haha</Text><Label>Porn</Label><Result>1</Result>
      <PornInfo><HitFlag>1</HitFlag><Score>93</Score><Keywords/></PornInfo>
    </Section>
  </JobsDetail>
  <RequestId>r-audio</RequestId>
</Response>"""  # reference §A.3 (D-AQ sample)


def test_audio_query_response() -> None:
    job = from_xml(AudioModerationResponse, AUDIO_QUERY, root="Response").jobs_detail
    assert job is not None
    assert job.audio_text == "Haha"
    assert job.porn_info is not None
    assert job.porn_info.score == 93
    assert job.porn_info.label == ""
    assert len(job.section) == 1
    assert job.section[0].url == "https://cos.ap-guangzhou.myqcloud.com/0.mp3"
    assert job.section[0].duration == 3000
    assert job.verdict == ModerationVerdict(result=Verdict.BLOCK, label="Porn", score=93, hits=["Porn"])


DOCUMENT_QUERY = """<Response>
  <JobsDetail>
    <JobId>aab1ca9fc8a3ed11ea834c525400863904</JobId><State>Success</State>
    <Code>Success</Code><Message>Success</Message><DataId/>
    <Suggestion>1</Suggestion><Label>Porn</Label>
    <CreationTime>2019-07-07T12:12:12+0800</CreationTime><Url>http://www.test.com/123</Url>
    <PageCount>3</PageCount>
    <Labels><PornInfo><HitFlag>1</HitFlag><Score>96</Score></PornInfo></Labels>
    <PageSegment>
      <Results>
        <Url/><Text/><PageNumber>1</PageNumber><SheetNumber>1</SheetNumber>
        <Label>Porn</Label><Suggestion>1</Suggestion>
        <PornInfo><HitFlag>1</HitFlag><SubLabel/><Score>96</Score>
          <OcrResults><Text/><Keywords/></OcrResults></PornInfo>
      </Results>
    </PageSegment>
    <ForbidState>0</ForbidState>
  </JobsDetail>
  <RequestId/>
</Response>"""  # reference §A.5 (D-DQ sample)


def test_document_submit_and_query_responses() -> None:
    submit = """<Response><JobsDetail><DataId>123-fdrsg-123</DataId>
      <JobId>aab1ca9fc8a3ed11ea834c525400863904</JobId><State>Submitted</State>
      <CreationTime>2019-07-07T12:12:12+0800</CreationTime></JobsDetail><RequestId>r</RequestId></Response>"""
    submitted = from_xml(DocumentModerationResponse, submit, root="Response").jobs_detail
    assert submitted is not None
    assert submitted.job_id == "aab1ca9fc8a3ed11ea834c525400863904"

    job = from_xml(DocumentModerationResponse, DOCUMENT_QUERY, root="Response").jobs_detail
    assert job is not None
    assert job.suggestion == 1
    assert job.result is None
    assert job.page_count == 3
    assert job.labels is not None
    assert job.labels.porn_info is not None
    assert job.labels.porn_info.score == 96
    assert job.page_segment is not None
    assert len(job.page_segment.results) == 1
    page = job.page_segment.results[0]
    assert (page.page_number, page.sheet_number, page.suggestion) == (1, 1, 1)
    assert page.porn_info is not None
    assert page.porn_info.ocr_results[0].keywords == []
    assert job.forbid_state == 0
    assert job.verdict == ModerationVerdict(result=Verdict.BLOCK, label="Porn", score=96, hits=["Porn"])


# --------------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------------

SIMPLE_VIDEO = {
    "code": 0,
    "message": "success",
    "data": {
        "event": "ReviewVideo",
        "trace_id": "ixzt90jl2dfscxxxxxxxxxxxxxxxxx",
        "url": "https://examplebucket-1250000000.cos.ap-shanghai.myqcloud.com/test.mp4",
        "result": 1,
        "forbidden_status": 1,
        "porn_info": {"hit_flag": 1, "label": "", "count": 3},
        "ads_info": {"hit_flag": 0, "label": "", "count": 0},
        "data_id": "123-fdrsg-123",
        "cos_headers": {"x-cos-meta-id": "666666"},
    },
}  # reference §A.6.1


def test_simple_callback_video() -> None:
    callback = parse_moderation_callback(json.dumps(SIMPLE_VIDEO))
    assert isinstance(callback, ModerationSimpleCallback)
    assert callback.code == 0
    assert callback.kind is ModerationKind.VIDEO
    assert not callback.is_test
    data = callback.data
    assert data is not None
    assert data.trace_id == "ixzt90jl2dfscxxxxxxxxxxxxxxxxx"
    assert data.forbidden_status == 1
    assert data.porn_info is not None
    assert data.porn_info.count == 3
    assert data.cos_headers == {"x-cos-meta-id": "666666"}
    assert data.data_id == "123-fdrsg-123"
    assert callback.verdict == ModerationVerdict(result=Verdict.BLOCK, label="Porn", hits=["Porn"])
    # keys stay snake_case on the way out too
    dumped = callback.model_dump(by_alias=True, exclude_none=True)
    assert dumped["data"]["porn_info"] == {"hit_flag": 1, "label": "", "count": 3}


def test_simple_callback_image_text_and_probe() -> None:
    image = decode_moderation_callback(
        {
            "code": 0,
            "message": "success",
            "data": {
                "event": "ReviewImage",
                "url": "https://b.cos.ap-shanghai.myqcloud.com/a.jpg",
                "result": 2,
                "forbidden_status": 0,
                "porn_info": {"hit_flag": 2, "label": "Porn", "score": 72},
            },
        }
    )
    assert image.kind is ModerationKind.IMAGE
    assert image.verdict == ModerationVerdict(result=Verdict.REVIEW, label="Porn", score=72, hits=["Porn"])

    # string scalars (as some JSON senders write them) are tolerated
    text = decode_moderation_callback(
        {
            "code": "0",
            "message": "success",
            "data": {
                "event": "ReviewText",
                "trace_id": "vjob",
                "result": "1",
                "illegal_info": {"hit_flag": "1", "label": "badword", "count": "2"},
                "abuse_info": {"hit_flag": "0", "label": "", "count": "0"},
            },
        }
    )
    assert isinstance(text, ModerationSimpleCallback)
    assert text.data is not None
    assert text.data.illegal_info is not None
    assert text.data.illegal_info.label == "badword"
    assert text.verdict == ModerationVerdict(result=Verdict.BLOCK, label="Illegal", hits=["Illegal"])

    probe = parse_moderation_callback(
        b'{"code": 0, "message": "Test request when setting callback url", "data": {"event": "ReviewAudio",'
        b' "result": 0, "porn_info": {"hit_flag": 0, "label": "", "score": 0}}}'
    )
    assert isinstance(probe, ModerationSimpleCallback)
    assert probe.is_test
    assert probe.verdict == ModerationVerdict(result=Verdict.NORMAL, label="Normal", score=0, hits=[])
    assert CONTENT_VERSION_HEADER == "X-Ci-Content-Version"


TEXT_DETAIL = {
    "EventName": "ReviewText",
    "JobsDetail": {
        "JobId": "xxxxxx",
        "State": "Success",
        "CreationTime": "2021-08-10T21:01:08+08:00",
        "Object": "1.txt",
        "Label": "Normal",
        "Result": 0,
        "SectionCount": 1,
        "PornInfo": {"HitFlag": 0, "Count": 0},
        "AdsInfo": {"HitFlag": 0, "Count": 0},
        "Section": [
            {
                "StartByte": 0,
                "Label": "Normal",
                "Result": 0,
                "PornInfo": {"HitFlag": 0, "Score": 0, "Keywords": ""},
                "AdsInfo": {"HitFlag": 0, "Score": 0, "Keywords": ""},
            }
        ],
        "BucketId": "examplebucket-1250000000",
        "Region": "ap-chongqing",
        "ForbidState": 0,
        "CosHeaders": {"x-cos-meta-id": "xxx"},
    },
}  # reference §A.6.2


def test_detail_callback_text_json() -> None:
    callback = parse_moderation_callback(json.dumps(TEXT_DETAIL).encode())
    assert isinstance(callback, TextModerationCallback)
    assert callback.kind is ModerationKind.TEXT
    job = callback.jobs_detail
    assert job is not None
    assert job.creation_time == datetime(2021, 8, 10, 21, 1, 8, tzinfo=CHINA)
    assert job.bucket_id == "examplebucket-1250000000"
    assert job.region == "ap-chongqing"
    assert job.cos_headers == {"x-cos-meta-id": "xxx"}
    assert job.section[0].ads_info is not None
    assert job.section[0].ads_info.keywords == ""
    assert callback.verdict == ModerationVerdict(result=Verdict.NORMAL, label="Normal", score=0, hits=[])


def test_detail_callback_collapsed_arrays_and_string_scalars() -> None:
    # a one-item array sent as an object, numbers as strings
    body = json.loads(json.dumps(TEXT_DETAIL))
    body["JobsDetail"]["Section"] = {
        "StartByte": "0",
        "Label": "Abuse",
        "Result": "2",
        "AbuseInfo": {"HitFlag": "2", "Score": "66", "Keywords": "idiot,fool"},
    }
    body["JobsDetail"].update({"Label": "Abuse", "Result": "2", "AbuseInfo": {"HitFlag": "2", "Count": "1"}})
    callback = decode_moderation_callback(body)
    assert isinstance(callback, TextModerationCallback)
    assert callback.jobs_detail is not None
    assert len(callback.jobs_detail.section) == 1
    abuse = callback.jobs_detail.section[0].abuse_info
    assert abuse is not None
    assert abuse.keyword_list == ["idiot", "fool"]
    assert callback.verdict == ModerationVerdict(result=Verdict.REVIEW, label="Abuse", score=66, hits=["Abuse"])


DOCUMENT_DETAIL = {
    "EventName": "ReviewDocument",
    "JobsDetail": {
        "JobId": "xxxxxx",
        "State": "Success",
        "CreationTime": "2021-08-10T21:01:10+08:00",
        "Url": "http://test.com/test.doc",
        "Label": "Normal",
        "Suggestion": 0,
        "PageCount": 1,
        "Labels": {"PornInfo": {"HitFlag": 0, "Score": 0}, "AdsInfo": {"HitFlag": 0, "Score": 0}},
        "PageSegment": {
            "Results": [
                {
                    "Url": "",
                    "Text": "",
                    "PageNumber": 0,
                    "SheetNumber": 0,
                    "Label": "Normal",
                    "Suggestion": 0,
                    "PornInfo": {
                        "HitFlag": 0,
                        "Score": 0,
                        "SubLabel": "",
                        "OcrResults": [
                            {
                                "Text": "",
                                "Keywords": ["", ""],
                                "Location": {"X": 0, "Y": 0, "Width": 0, "Height": 0, "Rotate": 0},
                            }
                        ],
                    },
                    "AdsInfo": {"HitFlag": 0, "Score": 0, "SubLabel": ""},
                }
            ]
        },
        "BucketId": "examplebucket-1250000000",
        "Region": "ap-chongqing",
        "ForbidState": 0,
        "CosHeaders": {"x-cos-meta-id": "666666"},
    },
}  # reference §A.6.2 document callback


def test_detail_callback_document_json() -> None:
    callback = decode_moderation_callback(DOCUMENT_DETAIL)
    assert isinstance(callback, DocumentModerationCallback)
    job = callback.jobs_detail
    assert job is not None
    assert job.url == "http://test.com/test.doc"
    assert job.page_count == 1
    assert job.page_segment is not None
    page = job.page_segment.results[0]
    assert page.porn_info is not None
    ocr = page.porn_info.ocr_results[0]
    assert ocr.keywords == ["", ""]
    assert ocr.location is not None
    assert ocr.location.rotate == 0
    assert callback.verdict == ModerationVerdict(result=Verdict.NORMAL, label="Normal", score=0, hits=[])


def test_detail_callbacks_video_audio_image_json() -> None:
    video = decode_moderation_callback(
        {
            "EventName": "ReviewVideo",
            "JobsDetail": {
                "JobId": "vjob",
                "State": "Success",
                "Object": "a.mp4",
                "Label": "Porn",
                "Result": 2,
                "SnapshotCount": 1,
                "PornInfo": {"HitFlag": 2, "Count": 1},
                "Snapshot": [
                    {
                        "Url": "https://x/1.jpg",
                        "Text": "",
                        "SnapshotTime": 500,
                        "Label": "Porn",
                        "Result": 2,
                        "PornInfo": {"HitFlag": 2, "Score": 77, "Label": "Porn", "SubLabel": "Sexy"},
                    }
                ],
                "AudioSection": [
                    {
                        "Url": "https://x/1.mp3",
                        "Text": "hi",
                        "OffsetTime": 0,
                        "Duration": 1000,
                        "Label": "Normal",
                        "Result": 0,
                        "PornInfo": {"HitFlag": 0, "Score": 0},
                    }
                ],
                "ForbidState": 0,
            },
        }
    )
    assert isinstance(video, VideoModerationCallback)
    assert video.jobs_detail is not None
    assert video.jobs_detail.snapshot[0].snapshot_time == 500
    assert video.jobs_detail.audio_section[0].text == "hi"
    assert video.verdict == ModerationVerdict(
        result=Verdict.REVIEW, label="Porn", score=77, sub_label="Sexy", hits=["Porn"]
    )

    audio = decode_moderation_callback(
        {
            "EventName": "ReviewAudio",
            "JobsDetail": {
                "JobId": "ajob",
                "State": "Success",
                "Label": "Normal",
                "Result": 0,
                "AudioText": "hello",
                "PornInfo": {"HitFlag": 0, "Score": 3, "Label": ""},
                "Section": [{"Url": "u", "Text": "hello", "OffsetTime": 0, "Duration": 2000, "Result": 0}],
            },
        }
    )
    assert isinstance(audio, AudioModerationCallback)
    assert audio.jobs_detail is not None
    assert audio.jobs_detail.section[0].duration == 2000
    assert audio.verdict == ModerationVerdict(result=Verdict.NORMAL, label="Normal", score=3, hits=[])

    image = decode_moderation_callback(
        {
            "EventName": "ReviewImage",
            "JobsDetail": {
                "JobId": "ijob",
                "State": "Success",
                "Url": "https://x/a.jpg",
                "Label": "Ads",
                "Result": 1,
                "Score": 99,
                "Category": "QRCode",
                "SubLabel": "QRCode",
                "Text": "",
                "CompressionResult": 1,
                "AdsInfo": {
                    "HitFlag": 1,
                    "Score": 99,
                    "Label": "Ads",
                    "Category": "QRCode",
                    "SubLabel": "QRCode",
                },
                "DataId": "d9",
            },
        }
    )
    assert isinstance(image, ImageModerationCallback)
    assert image.jobs_detail is not None
    assert image.jobs_detail.compression_result == 1
    assert image.jobs_detail.data_id == "d9"
    assert image.verdict == ModerationVerdict(
        result=Verdict.BLOCK, label="Ads", score=99, sub_label="QRCode", hits=["Ads"]
    )


def test_detail_callback_xml_form() -> None:
    # the Detail shape is the query tree plus EventName: accept it as XML too
    body = AUDIO_QUERY.replace("<Response>", "<Response><EventName>ReviewAudio</EventName>", 1)
    callback = parse_moderation_callback(body)
    assert isinstance(callback, AudioModerationCallback)
    assert callback.jobs_detail is not None
    assert callback.jobs_detail.job_id == "vab1ca9fc8a3ed11ea834c525400863904"
    assert callback.verdict.blocked
    doc_body = DOCUMENT_QUERY.replace("<Response>", "<Response><EventName>ReviewDocument</EventName>", 1)
    doc = parse_moderation_callback(doc_body.encode())
    assert isinstance(doc, DocumentModerationCallback)
    assert doc.verdict.hits == ["Porn"]


def test_callback_unknown_event_and_bad_bodies() -> None:
    other = decode_moderation_callback(
        {"EventName": "ReviewWebpage", "JobsDetail": {"JobId": "w1", "Result": 1, "PornInfo": {"HitFlag": 1}}}
    )
    assert type(other) is ModerationDetailCallback
    assert other.kind is None
    assert isinstance(other.jobs_detail, ModerationJobDetail)
    assert other.verdict.result is Verdict.BLOCK
    with pytest.raises(DecodeError):
        parse_moderation_callback(b"{not json")
    with pytest.raises(DecodeError):
        decode_moderation_callback(["not", "an", "object"])
    with pytest.raises(DecodeError):
        decode_moderation_callback({"EventName": "ReviewText", "JobsDetail": {"Section": [{"StartByte": "x"}]}})


# --------------------------------------------------------------------------------------------------
# The verdict helper: normal, blocked and suspected cases of every type
# --------------------------------------------------------------------------------------------------

V = ModerationVerdict
VERDICT_CASES: list[tuple[type[ModerationJobDetail], dict[str, Any], ModerationVerdict]] = [
    # image: job-level Result/Label/Score/SubLabel
    (
        ImageModerationDetail,
        {"Result": "0", "Label": "Normal", "Score": "0", "PornInfo": {"HitFlag": "0", "Score": "1"}},
        V(result=Verdict.NORMAL, label="Normal", score=0, hits=[]),
    ),
    (
        ImageModerationDetail,
        {"Result": "1", "Label": "Porn", "Score": "97", "SubLabel": "Nude", "PornInfo": {"HitFlag": "1"}},
        V(result=Verdict.BLOCK, label="Porn", score=97, sub_label="Nude", hits=["Porn"]),
    ),
    (
        ImageModerationDetail,
        {"Result": "2", "Label": "Politics", "Score": "75", "PoliticsInfo": {"HitFlag": "2", "Score": "75"}},
        V(result=Verdict.REVIEW, label="Politics", score=75, hits=["Politics"]),
    ),
    # video: scores come from frames
    (
        VideoModerationDetail,
        {"Result": "0", "Label": "Normal", "PornInfo": {"HitFlag": "0", "Count": "0"}},
        V(result=Verdict.NORMAL, label="Normal", hits=[]),
    ),
    (
        VideoModerationDetail,
        {
            "Result": "1",
            "Label": "Terrorism",
            "TerrorismInfo": {"HitFlag": "1", "Count": "2"},
            "Snapshot": [
                {"TerrorismInfo": {"HitFlag": "1", "Score": "92"}},
                {"TerrorismInfo": {"HitFlag": "1", "Score": "99"}},
            ],
        },
        V(result=Verdict.BLOCK, label="Terrorism", score=99, hits=["Terrorism"]),
    ),
    (
        VideoModerationDetail,
        {
            "Result": "2",
            "Label": "Ads",
            "AdsInfo": {"HitFlag": "2", "Count": "1"},
            "AudioSection": {"AdsInfo": {"HitFlag": "2", "Score": "70", "Keywords": "wechat"}},
        },
        V(result=Verdict.REVIEW, label="Ads", score=70, hits=["Ads"]),
    ),
    # audio
    (
        AudioModerationDetail,
        {"Result": "0", "Label": "Normal", "PornInfo": {"HitFlag": "0", "Score": "0"}},
        V(result=Verdict.NORMAL, label="Normal", score=0, hits=[]),
    ),
    (
        AudioModerationDetail,
        {"Result": "1", "Label": "Porn", "PornInfo": {"HitFlag": "1", "Score": "93"}},
        V(result=Verdict.BLOCK, label="Porn", score=93, hits=["Porn"]),
    ),
    (
        AudioModerationDetail,
        {
            "Result": "2",
            "Label": "Teenager",
            "TeenagerInfo": {"HitFlag": "2", "Score": "65"},
            "Section": [{"TeenagerInfo": {"HitFlag": "2", "Score": "68"}}],
        },
        V(result=Verdict.REVIEW, label="Teenager", score=68, hits=["Teenager"]),
    ),
    # text: sections carry the scores
    (
        TextModerationDetail,
        {"Result": "0", "Label": "Normal", "Section": {"PornInfo": {"HitFlag": "0", "Score": "4"}}},
        V(result=Verdict.NORMAL, label="Normal", score=4, hits=[]),
    ),
    (
        TextModerationDetail,
        {
            "Result": "1",
            "Label": "Ads",
            "AdsInfo": {"HitFlag": "1", "Count": "1"},
            "Section": {"AdsInfo": {"HitFlag": "1", "Score": "90", "SubLabel": "Contact"}},
        },
        V(result=Verdict.BLOCK, label="Ads", score=90, sub_label="Contact", hits=["Ads"]),
    ),
    (
        TextModerationDetail,
        {
            "Result": "2",
            "Label": "Abuse",
            "AbuseInfo": {"HitFlag": "2", "Count": "1"},
            "Section": {"AbuseInfo": {"HitFlag": "2", "Score": "61"}},
        },
        V(result=Verdict.REVIEW, label="Abuse", score=61, hits=["Abuse"]),
    ),
    # document: Suggestion, scenes under Labels
    (
        DocumentModerationDetail,
        {"Suggestion": "0", "Label": "Normal", "Labels": {"PornInfo": {"HitFlag": "0", "Score": "0"}}},
        V(result=Verdict.NORMAL, label="Normal", score=0, hits=[]),
    ),
    (
        DocumentModerationDetail,
        {"Suggestion": "1", "Label": "Porn", "Labels": {"PornInfo": {"HitFlag": "1", "Score": "96"}}},
        V(result=Verdict.BLOCK, label="Porn", score=96, hits=["Porn"]),
    ),
    (
        DocumentModerationDetail,
        {
            "Suggestion": "2",
            "Label": "Ads",
            "Labels": {"AdsInfo": {"HitFlag": "2", "Score": "80"}},
            "PageSegment": {"Results": {"AdsInfo": {"HitFlag": "2", "Score": "82", "SubLabel": "QRCode"}}},
        },
        V(result=Verdict.REVIEW, label="Ads", score=82, sub_label="QRCode", hits=["Ads"]),
    ),
]


@pytest.mark.parametrize(("model", "tree", "expected"), VERDICT_CASES)
def test_verdict_per_type(model: type[ModerationJobDetail], tree: dict[str, Any], expected: V) -> None:
    assert model.model_validate(tree).verdict == expected


def test_verdict_without_result_and_with_unknown_result() -> None:
    # no Result (e.g. a partial body): derived from the scene flags, the strongest wins
    derived = ImageModerationDetail.model_validate(
        {"PornInfo": {"HitFlag": "2", "Score": "70"}, "AdsInfo": {"HitFlag": "1", "Score": "95"}}
    ).verdict
    assert derived.result is Verdict.BLOCK
    assert derived.label == "Porn"  # first hit scene in scene order
    assert derived.hits == ["Porn", "Ads"]
    # an undocumented Result is routed to review, never passed as normal
    unknown = TextModerationDetail.model_validate({"Result": "7", "Label": "Spam"}).verdict
    assert unknown.result is Verdict.REVIEW
    assert unknown.label == "Spam"
    # a clean job reports its riskiest score but no sub label from a scene that did not hit
    clean = AudioModerationDetail.model_validate(
        {"Result": "0", "Label": "Normal", "AdsInfo": {"HitFlag": "0", "Score": "40", "SubLabel": "Contact"}}
    ).verdict
    assert clean == ModerationVerdict(result=Verdict.NORMAL, label="Normal", score=40, hits=[])
    # a failed job has no verdict
    failed = VideoModerationDetail.model_validate({"State": "Failed", "Code": "InternalError"}).verdict
    assert failed == ModerationVerdict()


# --------------------------------------------------------------------------------------------------
# Keywords: text comma string vs image repeated elements
# --------------------------------------------------------------------------------------------------


def test_keywords_text_comma_string_round_trips() -> None:
    section = from_xml(
        TextModerationDetail,
        "<JobsDetail><Section><PornInfo><HitFlag>1</HitFlag><Keywords>a,b, c</Keywords></PornInfo>"
        "</Section></JobsDetail>",
    ).section[0]
    assert section.porn_info is not None
    assert section.porn_info.keywords == "a,b, c"
    assert section.porn_info.keyword_list == ["a", "b", "c"]
    assert xml_tree(to_xml(section, "Section"), root="Section")["PornInfo"]["Keywords"] == "a,b, c"


def test_keywords_image_repeated_elements_round_trip() -> None:
    job = from_xml(
        ImageModerationDetail,
        "<JobsDetail><PornInfo><HitFlag>1</HitFlag><Keywords>a</Keywords><Keywords>b</Keywords></PornInfo>"
        "<AdsInfo><HitFlag>0</HitFlag><Keywords>only</Keywords></AdsInfo></JobsDetail>",
    )
    assert job.porn_info is not None
    assert job.porn_info.keywords == ["a", "b"]
    assert job.porn_info.keyword_list == ["a", "b"]
    assert job.ads_info is not None
    assert job.ads_info.keyword_list == ["only"]  # one element arrives as a plain string
    assert xml_tree(to_xml(job, "JobsDetail"), root="JobsDetail")["PornInfo"]["Keywords"] == ["a", "b"]
    # JSON arrays too
    assert SceneInfo.model_validate({"Keywords": ["x", "y"]}).keyword_list == ["x", "y"]
    assert SceneInfo.model_validate({"Keywords": ""}).keyword_list == []


def test_moderation_scene_table_is_the_one_the_models_read() -> None:
    """``MODERATION_SCENES`` names every scene field the result, Simple callback and freeze models carry."""
    from ciflow.models.moderation import (
        MODERATION_SCENES,
        ModerationKind,
        SceneResults,
        SimpleCallbackData,
        default_scenes,
        moderation_scene,
    )

    names = [scene.name for scene in MODERATION_SCENES]
    assert names == ["Porn", "Terrorism", "Politics", "Ads", "Teenager", "Illegal", "Abuse", "Value", "Spam"]
    scene_fields = {name for name in SceneResults.model_fields if name.endswith("_info")}
    assert scene_fields == {scene.field for scene in MODERATION_SCENES}
    simple_fields = {name for name in SimpleCallbackData.model_fields if name.endswith("_info")}
    assert simple_fields == {scene.field for scene in MODERATION_SCENES if scene.requestable}
    freeze_fields = set(FreezeConf.model_fields)
    assert freeze_fields == {scene.freeze_field for scene in MODERATION_SCENES if scene.freeze_field}
    assert all(field in ImageRecognitionResult.model_fields for s in MODERATION_SCENES for field in s.legacy_fields)
    terrorism = moderation_scene(" terrorism ")
    assert terrorism is not None
    assert (terrorism.element, terrorism.detect_type) == ("TerrorismInfo", "terrorist")
    assert moderation_scene("porn") is MODERATION_SCENES[0]
    assert moderation_scene("nope") is None
    # Text moderation's documented scenes (seed 003, "PornInfo, AdsInfo, IllegalInfo, and AbuseInfo").
    assert default_scenes(ModerationKind.TEXT) == ("Porn", "Ads", "Illegal", "Abuse")
    assert default_scenes(ModerationKind.IMAGE) == ("Porn", "Terrorism", "Politics", "Ads", "Teenager")
    assert default_scenes(ModerationKind.DOCUMENT) == ("Porn", "Ads")
